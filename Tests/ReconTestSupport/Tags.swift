public import Foundation
public import Testing

extension Tag {
    /// Tests that need more than the test process: a PostgreSQL cluster, an HTTP server, or other
    /// processes (`recon` daemons, gzip, python3). The rest are pure and fast.
    @Tag public static var integration: Self
}

extension Trait where Self == ConditionTrait {
    /// Skips an `integration` suite when `RECON_TESTS=fast`. Swift 6.3's `swift test` selects by
    /// name (`--filter`, `--skip`), not by tag, so `RECON_TESTS=fast swift test` is how the pure
    /// tests run alone. Every suite tagged `integration` carries this too.
    public static var skippedWhenFast: Self {
        .disabled(
            if: ProcessInfo.processInfo.environment["RECON_TESTS"] == "fast",
            "RECON_TESTS=fast: this suite needs PostgreSQL, a server or other processes")
    }
}
