public import Foundation
import ReconBlocking
import ReconPostgres
import Synchronization

/// A private PostgreSQL cluster in a temporary folder: `initdb`, then `pg_ctl start` with the server
/// listening only on a Unix socket inside that folder (`listen_addresses=''`).
///
/// Tests and `recon demo` use it. It is stopped and its folder removed by `stop()`, by `deinit`,
/// and, should this process die without either (a crashed test, `kill -9`), by a small watcher
/// process that waits for this process to end.
public final class EmbeddedPostgres: Sendable {
    public struct Options: Sendable {
        /// `fsync=off` and friends: fast and fine for data that is thrown away.
        public var durable: Bool = false
        /// Extra `postgresql.conf` settings, e.g. `["max_connections": "200"]`.
        public var settings: [String: String] = [:]
        public init(durable: Bool = false, settings: [String: String] = [:]) {
            self.durable = durable
            self.settings = settings
        }
    }

    /// The temporary folder holding the data folder, the socket and the server log.
    public let directory: String
    public let binDirectory: String
    /// The bootstrap superuser's name; authentication is `trust` over the private socket.
    public let superuser = "recon"
    private let stopped = Atomic<Bool>(false)
    /// The watcher process (see `startWatcher`), stopped by `stop()`; 0 before it started.
    private let watcher = Atomic<Int32>(0)

    public var dataDirectory: String { directory + "/data" }
    public var logFile: String { directory + "/postgres.log" }

    /// A libpq connection string for `database` on this cluster.
    public func connectionString(database: String = "postgres") -> String {
        "host=\(directory) port=5432 user=\(superuser) dbname=\(database)"
    }

    /// Creates and starts a cluster. Blocks for a second or two (initdb and server start).
    public init(options: Options = Options()) throws(EmbeddedPostgresError) {
        let bin = try EmbeddedPostgres.findBinDirectory()
        binDirectory = bin
        directory = try EmbeddedPostgres.makeTemporaryDirectory()
        do {
            try EmbeddedPostgres.handOverToServerUser(directory)
            try ChildProcess.run(
                bin + "/initdb",
                [
                    "-D", directory + "/data", "-U", "recon", "-A", "trust", "-E", "UTF8", "--locale=C", "--nosync",
                    "--no-instructions",
                ],
                asUser: "postgres", scratch: directory)
            try appendSettings(options)
            try ChildProcess.run(
                bin + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "start"],
                asUser: "postgres", scratch: directory)
            try startWatcher()
        } catch let failure as ChildProcess.Failure {
            stop()
            throw EmbeddedPostgresError("starting PostgreSQL in \(directory) failed: \(failure)")
        } catch let error as EmbeddedPostgresError {
            stop()
            throw error
        } catch {
            stop()
            throw EmbeddedPostgresError("starting PostgreSQL in \(directory) failed: \(error)")
        }
    }

    /// Starts a cluster on a thread of our own, keeping the cooperative pool free.
    public static func start(options: Options = Options()) async throws -> EmbeddedPostgres {
        try await BlockingExecutor.shared.run { try EmbeddedPostgres(options: options) }
    }

    /// Starts a cluster, runs `body` with it, and stops it afterwards, also when `body` throws.
    public static func withCluster<T>(
        options: Options = Options(), _ body: (EmbeddedPostgres) async throws -> T
    ) async throws -> T {
        let cluster = try await start(options: options)
        do {
            let value = try await body(cluster)
            await cluster.stopAndWait()
            return value
        } catch {
            await cluster.stopAndWait()
            throw error
        }
    }

    deinit { stop() }

    /// Stops the server and removes the folder on a thread of our own; for async callers.
    public func stopAndWait() async {
        _ = try? await BlockingExecutor.shared.run { self.stop() }
    }

    /// Stops the server at once and removes the folder. Safe to call more than once. Blocks on
    /// `pg_ctl stop`: async code calls `stopAndWait()` instead.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let watcherPID = watcher.exchange(0, ordering: .acquiringAndReleasing)
        if watcherPID > 0 {
            kill(watcherPID, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(watcherPID, &status, 0)
        }
        _ = try? ChildProcess.run(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"], asUser: "postgres",
            scratch: "/tmp")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `pg_ctl restart -m fast`: every open connection is cut, as on a real server restart.
    public func restart() throws(EmbeddedPostgresError) {
        do {
            try ChildProcess.run(
                binDirectory + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-m", "fast", "-w", "restart"],
                asUser: "postgres", scratch: directory)
        } catch {
            throw EmbeddedPostgresError("restarting PostgreSQL in \(directory) failed: \(error)")
        }
    }

    /// Creates a database and returns its connection string.
    public func createDatabase(_ name: String) throws -> String {
        let connection = try PGConnection(connectionString: connectionString())
        defer { connection.close() }
        try connection.execute(script: "CREATE DATABASE \(quoteIdentifier(name))", name: "create database")
        return connectionString(database: name)
    }

    // MARK: - Setting up

    private func appendSettings(_ options: Options) throws {
        var settings: [String: String] = [
            "unix_socket_directories": "'\(directory)'",
            "listen_addresses": "''",
            "port": "5432",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
        ]
        if !options.durable {
            settings["fsync"] = "off"
            settings["full_page_writes"] = "off"
        }
        for (key, value) in options.settings { settings[key] = value }
        let text = settings.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)\n" }.joined()
        let path = dataDirectory + "/postgresql.conf"
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw EmbeddedPostgresError("cannot open \(path) to add settings")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n# added by Recon's embedded cluster\n" + text).utf8))
    }

    /// If this process dies without calling `stop()`, a watcher stops the server and removes the folder.
    private func startWatcher() throws {
        let owner = getpid()
        let stopCommand = "\(binDirectory)/pg_ctl -D '\(dataDirectory)' -m immediate stop"
        let asServerUser = getuid() == 0 ? "/usr/sbin/runuser -u postgres -- \(stopCommand)" : stopCommand
        let pid = try ChildProcess.spawnDetached(
            script: """
                while kill -0 \(owner) 2>/dev/null; do sleep 1; done
                if [ -d '\(dataDirectory)' ]; then \(asServerUser) >/dev/null 2>&1; rm -rf '\(directory)'; fi
                """)
        watcher.store(pid, ordering: .releasing)
    }

    /// `pg_config --bindir` when it exists, else the newest /usr/lib/postgresql/*/bin with initdb.
    static func findBinDirectory() throws(EmbeddedPostgresError) -> String {
        let fileManager = FileManager.default
        if let fromEnvironment = ProcessInfo.processInfo.environment["RECON_PG_BINDIR"],
            fileManager.isExecutableFile(atPath: fromEnvironment + "/initdb")
        {
            return fromEnvironment
        }
        if let bin = try? ChildProcess.run("/usr/bin/pg_config", ["--bindir"], scratch: NSTemporaryDirectory()),
            fileManager.isExecutableFile(atPath: bin + "/initdb")
        {
            return bin
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where fileManager.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw EmbeddedPostgresError(
            "no PostgreSQL server binaries found (tried pg_config --bindir and /usr/lib/postgresql/*/bin); "
                + "install them with: apt-get install -y postgresql")
    }

    static func makeTemporaryDirectory() throws(EmbeddedPostgresError) -> String {
        // Short and under /tmp: a Unix socket path must stay under 108 bytes.
        var template = Array("/tmp/recon-pg-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap(mkdtemp) }
        guard created != nil else {
            throw EmbeddedPostgresError("cannot create a temporary folder under /tmp (errno \(errno))")
        }
        return String(cString: template)
    }

    /// initdb refuses to run as root, so as root the folder is handed to the `postgres` user.
    static func handOverToServerUser(_ directory: String) throws(EmbeddedPostgresError) {
        guard getuid() == 0 else { return }
        guard let user = getpwnam("postgres") else {
            throw EmbeddedPostgresError(
                "running as root needs a 'postgres' user to run initdb and pg_ctl; install the postgresql package")
        }
        guard chown(directory, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw EmbeddedPostgresError("cannot give \(directory) to the postgres user (errno \(errno))")
        }
    }
}

public struct EmbeddedPostgresError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
