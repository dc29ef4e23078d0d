import ArgumentParser
import Foundation
import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconReconcile

/// `--date YYYY-MM-DD`, checked.
struct DayOption: ParsableArguments {
    @Option(help: "The business day, YYYY-MM-DD.") var date: String

    func validate() throws { _ = try day() }

    func day() throws -> LocalDay {
        guard let day = LocalDay(date) else { throw ValidationError("--date \(date) is not YYYY-MM-DD") }
        return day
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

/// Runs `body` on a connection of its own thread and closes it.
func withDatabase<T: Sendable>(
    _ database: DatabaseOptions, _ body: @escaping @Sendable (PGConnection) throws -> T
) async throws -> T {
    let pool = PGPool(connectionString: try database.resolved(), maxConnections: 1)
    defer { pool.close() }
    do {
        return try await pool.withConnection(body)
    } catch let error as ReconcileError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(1)
    }
}

/// Columns padded to their widest cell, for a terminal.
func tableText(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
}

func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

/// `recon report --date D`: one row per item of the day.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Every reconciled item of a day, one row each.",
        discussion: """
            CSV columns: channel,bill_date,channel_txn_id,leg_id,status,channel_amount,internal_amount; with
            --virtual: asset,bill_date,leg_id,entry_id,status,ledger_amount,internal_amount. Table and JSON also
            say where a carried_over item was resolved.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var day: DayOption
    @Option(help: "Only this channel.") var channel: String?
    @Flag(help: "The virtual-account check instead of the channels.") var virtual = false
    @Option(help: "Only items with this status.") var status: String?
    @Option(help: "table, csv or json.") var format: ReportFormat = .table

    func validate() throws {
        if let status, MatchStatus(rawValue: status) == nil {
            throw ValidationError(
                "--status must be one of \(MatchStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let day = try day.day()
        let filter = DayReport.Filter(channel: channel, status: status.flatMap(MatchStatus.init(rawValue:)))
        if virtual {
            let rows = try await withDatabase(database) { try DayReport.virtualRows(day: day, filter: filter, on: $0) }
            switch format {
            case .csv: print(([DayReport.virtualHeader] + rows.map(DayReport.csv)).joined(separator: "\n"))
            case .json: print(try jsonText(rows), terminator: "")
            case .table:
                print(
                    tableText(
                        ["asset", "leg_id", "entry_id", "status", "ledger", "internal", "resolved"],
                        rows.map {
                            [
                                $0.asset, $0.legID, $0.entryID, $0.status, DayReport.amount($0.ledgerAmountFen),
                                DayReport.amount($0.internalAmountFen), $0.resolution.map { "by \($0.by)" } ?? "",
                            ]
                        }), terminator: "")
            }
            return
        }
        let rows = try await withDatabase(database) { try DayReport.channelRows(day: day, filter: filter, on: $0) }
        switch format {
        case .csv: print(([DayReport.channelHeader] + rows.map(DayReport.csv)).joined(separator: "\n"))
        case .json: print(try jsonText(rows), terminator: "")
        case .table:
            print(
                tableText(
                    ["channel", "channel_txn_id", "refund", "leg_id", "status", "channel", "internal", "where"],
                    rows.map {
                        [
                            $0.channel, $0.channelTxnID, $0.refundKey, $0.legID ?? "", $0.status,
                            DayReport.amount($0.channelAmountFen), DayReport.amount($0.internalAmountFen),
                            Self.whereText($0),
                        ]
                    }), terminator: "")
        }
    }

    static func whereText(_ row: DayReport.ChannelRow) -> String {
        if let on = row.resolvedOn { return "resolved \(on): \(row.resolvedStatus ?? "")" }
        if row.status == MatchStatus.carriedOver.rawValue { return "awaiting the next day" }
        if let from = row.carriedFrom { return "carried from \(from)" }
        return ""
    }
}

/// `recon summary --date D`: per channel and asset, each status's count and sums.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Per channel and asset, each status: count, channel and internal sums.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var day: DayOption
    @Option(help: "table, csv or json.") var format: ReportFormat = .table

    func run() async throws {
        let day = try day.day()
        let rows = try await withDatabase(database) { try DayReport.summary(day: day, on: $0) }
        switch format {
        case .json: print(try jsonText(rows), terminator: "")
        case .csv:
            print("channel,status,count,channel_amount,internal_amount")
            for row in rows {
                print(
                    [
                        CSVText.field(row.channel), row.status, String(row.count),
                        Money.yuanText(fen: row.channelAmountFen), Money.yuanText(fen: row.internalAmountFen),
                    ].joined(separator: ","))
            }
        case .table:
            print(
                tableText(["channel", "status", "count", "channel_amount", "internal_amount"], rows.map(\.cells)),
                terminator: "")
        }
    }
}

/// `recon settlement --date D`.
struct SettlementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settlement",
        abstract: "The day's settlement per business system, merchant and channel (exits 1 if not settled).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var day: DayOption
    @Option(help: "table or csv.") var format: ReportFormat = .table

    func run() async throws {
        let day = try day.day()
        guard let rows = try await withDatabase(database, { try DayReport.settlement(day: day, on: $0) }) else {
            FileHandle.standardError.write(Data("\(day) is not settled\n".utf8))
            throw ExitCode(1)
        }
        switch format {
        case .csv: print(SettlementCSV.text(rows), terminator: "")
        case .table, .json:
            print(
                tableText(
                    SettlementCSV.header.split(separator: ",").map(String.init),
                    rows.keys.sorted().map { key in
                        SettlementCSV.row(key, rows[key] ?? SettlementTotals()).split(
                            separator: ",", omittingEmptySubsequences: false
                        ).map(String.init)
                    }), terminator: "")
        }
    }
}

/// `recon discrepancies --date D [--open]` and `recon discrepancies resolve ID --note TEXT`.
struct DiscrepanciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discrepancies", abstract: "A day's discrepancies, and who resolved which.",
        subcommands: [ListDiscrepancies.self, ResolveDiscrepancy.self], defaultSubcommand: ListDiscrepancies.self)

    struct ListDiscrepancies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a day's discrepancies.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var day: DayOption
        @Flag(help: "Only those nobody has resolved.") var open = false

        func run() async throws {
            let day = try day.day()
            var filter = DayReport.Filter()
            filter.discrepanciesOnly = true
            filter.openOnly = open
            let query = filter
            let (channel, virtual) = try await withDatabase(database) { connection in
                (
                    try DayReport.channelRows(day: day, filter: query, on: connection),
                    try DayReport.virtualRows(day: day, filter: query, on: connection)
                )
            }
            var rows = channel.map { row in
                [
                    "c\(row.id)", row.channel, row.channelTxnID, row.legID ?? "", row.status,
                    DayReport.amount(row.channelAmountFen), DayReport.amount(row.internalAmountFen),
                    Self.resolved(row.resolution),
                ]
            }
            rows += virtual.map { row in
                [
                    "v\(row.id)", row.asset, row.entryID, row.legID, row.status, DayReport.amount(row.ledgerAmountFen),
                    DayReport.amount(row.internalAmountFen), Self.resolved(row.resolution),
                ]
            }
            print(
                tableText(
                    ["id", "channel", "txn_or_entry", "leg_id", "status", "channel", "internal", "resolved"], rows),
                terminator: "")
        }

        static func resolved(_ resolution: DayReport.Resolution?) -> String {
            resolution.map { "\($0.at) by \($0.by): \($0.note)" } ?? ""
        }
    }

    struct ResolveDiscrepancy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve", abstract: "Record that a discrepancy is dealt with, by whom and why.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The id `recon discrepancies` shows (c123 or v45).") var id: String
        @Option(help: "Why it is resolved.") var note: String
        @Option(help: "Who resolved it (default: $USER).") var by: String?

        func validate() throws {
            guard !note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--note must say why")
            }
        }

        func run() async throws {
            let who = by ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let (id, note) = (id, note)
            let what = try await withDatabase(database) { connection in
                try DayReport.resolve(id: id, note: note, by: who, on: connection)
            }
            print("resolved \(id) (\(what)) by \(who)")
        }
    }
}

extension DayReport.SummaryRow {
    /// channel, status, count, channel amount, internal amount: a row of the summary tables.
    var cells: [String] {
        [channel, status, String(count), Money.yuanText(fen: channelAmountFen), Money.yuanText(fen: internalAmountFen)]
    }
}
