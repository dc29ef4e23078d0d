public import ArgumentParser

/// `recon`: the one executable. Every daemon and tool is a subcommand.
public struct ReconCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "recon",
        abstract: "Reconciliation and settlement for a payment center.",
        subcommands: [
            MigrateCommand.self, DemoCommand.self, CoordinatorCommand.self, WorkerCommand.self, EnqueueCommand.self,
            StatusCommand.self, JobsCommand.self, RetryCommand.self, CancelCommand.self, FetchBillCommand.self,
            BillsCommand.self, MockChannelCommand.self, ImportPaymentsCommand.self, ImportLedgerCommand.self,
            RunDayCommand.self, ReportCommand.self, SummaryCommand.self, DiscrepanciesCommand.self,
            SettlementCommand.self,
        ])

    public init() {}
}
