import ArgumentParser

/// `recon-bench`: benchmarks that print figures. Not tests: nothing here passes or fails.
@main
struct ReconBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recon-bench", abstract: "Recon's benchmarks; figures go to BENCHMARKS.md.",
        subcommands: [
            CopyBenchmark.self, JobsBenchmark.self, BillsBenchmark.self, ParseBenchmark.self, ReconcileBenchmark.self,
            ImportBenchmark.self,
        ])
}
