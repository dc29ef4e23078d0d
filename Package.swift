// swift-tools-version:6.2
import PackageDescription

// Strict settings as in Hummingbird: existentials spelled `any`, imports internal unless
// written `public import`, and members visible only through the module that declares them.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Recon",
    products: [
        .executable(name: "recon", targets: ["recon"]),
        .executable(name: "recon-bench", targets: ["recon-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // C libraries, reached only through the Swift layers below.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // posix_spawn extras that glibc declares only under _GNU_SOURCE.
        .target(name: "CReconSpawn"),

        // Exact civil-date arithmetic, shared by the pure core and the database driver.
        .target(name: "ReconCalendar", swiftSettings: strict),
        // The pure core, no I/O: money in fen, business days and times, retry policy, cron.
        .target(name: "ReconCore", dependencies: ["ReconCalendar"], swiftSettings: strict),
        // Bill formats, pure: streaming parsers for each channel's bill, GBK, CSV records.
        .target(name: "ReconBills", dependencies: ["ReconCore"], swiftSettings: strict),
        // Configuration: the TOML reader and the job files (schedules, `[[channel]]` tables), read from disk.
        .target(name: "ReconConfig", dependencies: ["ReconCore", "ReconBills"], swiftSettings: strict),
        // Reconciliation's rules, pure: match keys and shards, the matching rules, the merge of two
        // sorted streams, virtual accounts, settlement sums and the CSV files Recon writes.
        .target(
            name: "ReconMatching",
            dependencies: ["ReconCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // The payment center's own records, pure: the payments and ledger import files, row by row.
        .target(
            name: "ReconRecords", dependencies: ["ReconCore", "ReconCalendar", "ReconMatching"], swiftSettings: strict),
        // Synthetic bills and their writers in every channel format: for the mock channel, benchmarks and tests.
        .target(
            name: "ReconFixtures", dependencies: ["ReconCore", "ReconBills", "ReconCalendar", "ReconMatching"],
            swiftSettings: strict),

        // gzip, zlib and ZIP through zlib: streaming inflate/deflate with size caps, ZIP read and write.
        .target(name: "ReconArchive", dependencies: ["CZlib"], swiftSettings: strict),

        // Log lines as logfmt or JSON, one per event on stderr (`--log-format`).
        .target(
            name: "ReconLogging", dependencies: ["ReconCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // Metrics: the names every process counts under (swift-metrics), and the Prometheus registry
        // they land in, bootstrapped once per process and rendered for `/metrics`.
        .target(
            name: "ReconMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),

        // Threads of our own for blocking C calls (libpq, libcurl, child processes).
        .target(name: "ReconBlocking", swiftSettings: strict),
        // PostgreSQL through libpq: connections, typed rows, transactions, COPY, LISTEN, pool.
        .target(
            name: "ReconPostgres", dependencies: ["CLibPQ", "ReconBlocking", "ReconCalendar"], swiftSettings: strict),
        // HTTP through libcurl: requests, streaming downloads, resume, timeouts.
        .target(name: "ReconHTTP", dependencies: ["CCurl", "ReconBlocking"], swiftSettings: strict),
        // The job ledger: enqueue, lease with fencing tokens, heartbeat, complete, fail, reap.
        .target(name: "ReconJobs", dependencies: ["ReconPostgres", "ReconCore"], swiftSettings: strict),
        // The operators' dashboard the coordinator serves at `/`: days, a day's discrepancies and
        // settlement, jobs; server-rendered from Mustache templates shipped as resources.
        .target(
            name: "ReconDashboard",
            dependencies: [
                "ReconJobs", "ReconPostgres", "ReconCore", "ReconReconcile", "ReconMatching", "ReconStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: strict),
        // `recon coordinator`: the lease API (Hummingbird), reaper, dependency sweep, prune, cron.
        .target(
            name: "ReconCoordinator",
            dependencies: [
                "ReconJobs", "ReconPostgres", "ReconCore", "ReconConfig", "ReconMetrics", "ReconDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // `recon worker`: leases into slots, runs handlers, heartbeats, fenced completion.
        .target(
            name: "ReconWorker",
            dependencies: [
                "ReconJobs", "ReconPostgres", "ReconHTTP", "ReconBlocking", "ReconCore", "ReconMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // Channel adapters: each channel's bill API over HTTP, its signing and verification, the
        // bill's checks and parse. Knows nothing of jobs or the database.
        .target(
            name: "ReconChannels",
            dependencies: [
                "ReconCore", "ReconBills", "ReconConfig", "ReconMatching", "ReconHTTP", "ReconArchive", "ReconBlocking",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        // Reconciliation in PostgreSQL: importing the payment center's records (and, next, the
        // reconcile, finalize and settle jobs).
        .target(
            name: "ReconReconcile",
            dependencies: [
                "ReconRecords", "ReconMatching", "ReconBills", "ReconCalendar", "ReconCore", "ReconConfig",
                "ReconPostgres", "ReconJobs",
            ],
            swiftSettings: strict),
        // The fetch_bill job: limits shared by every worker, attempts recorded, bills archived and
        // staged in the job's fenced completion.
        .target(
            name: "ReconBillJobs",
            dependencies: [
                "ReconChannels", "ReconCore", "ReconBills", "ReconConfig", "ReconMatching", "ReconHTTP",
                "ReconPostgres",
                "ReconJobs", "ReconWorker", "ReconBlocking", "ReconMetrics",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The business day's job kinds: run_day, reconcile shards, finalize, reconcile_virtual,
        // settle; each a thin handler over ReconReconcile.
        .target(
            name: "ReconDayJobs",
            dependencies: [
                "ReconReconcile", "ReconConfig", "ReconCore", "ReconJobs", "ReconMatching", "ReconWorker",
                "ReconMetrics",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // `recon mock-channel`: the channels' bill APIs in their wire formats, with fault injection.
        .target(
            name: "ReconMockChannel",
            dependencies: [
                "ReconCore", "ReconCalendar", "ReconBills", "ReconFixtures", "ReconArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        // A private PostgreSQL cluster in a temporary folder (tests and `recon demo`).
        .target(
            name: "ReconEmbeddedPostgres", dependencies: ["ReconPostgres", "ReconBlocking", "CReconSpawn"],
            swiftSettings: strict),
        // The schema: versioned SQL migrations shipped as resources.
        .target(
            name: "ReconStore",
            dependencies: ["ReconPostgres", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Migrations")],
            swiftSettings: strict),
        // The `recon` subcommands, a library so tests can call them in-process.
        .target(
            name: "ReconCLI",
            dependencies: [
                "ReconPostgres", "ReconStore", "ReconEmbeddedPostgres", "ReconJobs", "ReconCoordinator", "ReconWorker",
                "ReconCore", "ReconConfig", "ReconChannels", "ReconBillJobs", "ReconMockChannel", "ReconReconcile",
                "ReconMatching", "ReconDayJobs",
                "ReconBlocking", "ReconLogging", "ReconMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "recon",
            dependencies: [
                "ReconCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "recon-bench",
            dependencies: [
                "ReconPostgres", "ReconStore", "ReconEmbeddedPostgres", "ReconJobs", "ReconCore", "ReconBlocking",
                "ReconBills", "ReconConfig", "ReconFixtures", "ReconChannels", "ReconBillJobs", "ReconArchive",
                "ReconMatching", "ReconHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),

        .testTarget(name: "ReconCoreTests", dependencies: ["ReconCore"], swiftSettings: strict),
        // The log line formats and the metrics' exposition, pure.
        .testTarget(
            name: "ReconLoggingTests",
            dependencies: ["ReconLogging", "ReconMetrics", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "ReconBillsTests",
            dependencies: ["ReconBills", "ReconCore", "ReconCalendar", "ReconFixtures", "ReconConfig"],
            swiftSettings: strict),
        // The synthetic day: its files parse with the real parsers and an independent join reproduces
        // its expected outcome.
        .testTarget(
            name: "ReconFixturesTests",
            dependencies: ["ReconFixtures", "ReconBills", "ReconRecords", "ReconMatching", "ReconCore"],
            swiftSettings: strict),
        .testTarget(
            name: "ReconRecordsTests", dependencies: ["ReconRecords", "ReconMatching"], swiftSettings: strict),
        .testTarget(
            name: "ReconReconcileTests",
            dependencies: ["ReconReconcile", "ReconMatching", "ReconPostgres", "ReconCore", "ReconTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "ReconMatchingTests", dependencies: ["ReconMatching", "ReconCore"], swiftSettings: strict),
        .testTarget(
            name: "ReconConfigTests", dependencies: ["ReconConfig", "ReconBills", "ReconCore"], swiftSettings: strict),
        .testTarget(
            name: "ReconArchiveTests", dependencies: ["ReconArchive", "ReconTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ReconJobsTests",
            dependencies: ["ReconJobs", "ReconCore", "ReconPostgres", "ReconTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "ReconPostgresTests",
            dependencies: [
                "ReconPostgres", "ReconEmbeddedPostgres", "ReconStore", "ReconTestSupport", "ReconBlocking", "recon",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ReconHTTPTests",
            dependencies: [
                "ReconHTTP", "ReconTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict),
        // ReconChannels in-process: UnionPay's answer verification against the mock's signer, and
        // downloads, limits and staging against the mock and a throwaway cluster.
        .testTarget(
            name: "ReconChannelsTests",
            dependencies: [
                "ReconChannels", "ReconBillJobs", "ReconCore", "ReconCalendar", "ReconBills", "ReconConfig",
                "ReconMatching", "ReconHTTP", "ReconJobs",
                "ReconPostgres", "ReconMockChannel", "ReconTestSupport", "ReconArchive", "ReconFixtures",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ReconDaemonTests",
            dependencies: [
                "ReconJobs", "ReconPostgres", "ReconTestSupport", "ReconHTTP", "ReconCore", "ReconConfig",
                "ReconMockChannel", "ReconArchive", "ReconFixtures", "ReconMatching", "ReconBillJobs", "recon",
                "ReconBlocking", "ReconReconcile",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // ReconWorker in-process: completion outcomes (pure), commits and read-only reads against a
        // throwaway cluster, and a worker with test handlers against an in-process coordinator.
        .testTarget(
            name: "ReconWorkerTests",
            dependencies: [
                "ReconWorker", "ReconCoordinator", "ReconJobs", "ReconPostgres", "ReconCore", "ReconTestSupport",
                "ReconHTTP", "ReconMockChannel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // ReconCoordinator in-process: the lease routes through Hummingbird's test client, the
        // reaper, and what both log, against a throwaway cluster.
        .testTarget(
            name: "ReconCoordinatorTests",
            dependencies: [
                "ReconCoordinator", "ReconJobs", "ReconPostgres", "ReconCore", "ReconTestSupport", "ReconDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // Shared by the test targets: the per-process throwaway cluster, finding built binaries, the
        // `integration` tag, an in-memory log.
        .target(
            name: "ReconTestSupport",
            dependencies: [
                "ReconPostgres", "ReconEmbeddedPostgres", "ReconStore", "ReconBlocking",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ReconTestSupport",
            swiftSettings: strict),
    ]
)

// libFuzzer targets (Fuzz/, run by scripts/fuzz): declared only when RECON_FUZZ is set, so the normal
// build and its tests never see them. scripts/fuzz builds them with -sanitize=fuzzer,address into
// .build-fuzz; lld links them because gold fails on the sanitizer runtimes.
if Context.environment["RECON_FUZZ"] != nil {
    let fuzzSupport: [Target.Dependency] = ["ReconFuzzSupport", "ReconBills", "ReconCore", "ReconFixtures"]
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(
            name: "fuzz-\(name)", dependencies: fuzzSupport + dependencies, path: "Fuzz/Targets/\(name)",
            swiftSettings: strict, linkerSettings: [.unsafeFlags(["-use-ld=lld"])])
    }
    package.targets += [
        // LLVMFuzzerRunDriver, and a memfd for the ZIP target (glibc declares it only under _GNU_SOURCE).
        .target(name: "CReconFuzzer", path: "Fuzz/CReconFuzzer"),
        .target(
            name: "ReconFuzzSupport",
            dependencies: [
                "CReconFuzzer", "ReconBills", "ReconCore", "ReconCalendar", "ReconFixtures", "ReconRecords",
            ],
            path: "Fuzz/ReconFuzzSupport", swiftSettings: strict),
        fuzzTarget("alipay", []),
        fuzzTarget("wechatpay", []),
        fuzzTarget("unionpay", []),
        fuzzTarget("bank-csv", []),
        fuzzTarget("payments", ["ReconRecords", "ReconMatching"]),
        fuzzTarget("ledger", ["ReconRecords"]),
        fuzzTarget("zip", ["ReconArchive", "CReconFuzzer"]),
    ]
}
