import Foundation
import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconReconcile

/// What `recon demo` prints at the end, read back from the database: per channel and asset the
/// bill lines, matched items and each discrepancy status with its amounts; the settlement per
/// business system; the carried-over items and where they were resolved; the settlement files.
enum DemoSummary {
    static func print(days: [LocalDay], settlements: String, on connection: PGConnection) throws {
        for day in days {
            Swift.print("\n== \(day)")
            let lines = Dictionary(
                try connection.query(
                    "SELECT channel, lines FROM bill_fetches WHERE bill_date = $1", [day.pgDate], name: "demo: lines"
                ).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1)) }
            ) { first, _ in first }
            // How each bill came in: the attempts a retry took, the requests a snooze added.
            for row in try connection.query(
                """
                SELECT j.args->>'channel', j.attempt, coalesce(jsonb_array_length(j.errors), 0),
                       j.errors->-1->>'error', (SELECT count(*) FROM bill_fetch_attempts a WHERE a.job_id = j.id)
                FROM recon_jobs j WHERE j.kind = 'fetch_bill' AND j.args->>'date' = $1 ORDER BY 1
                """, ["\(day)"], name: "demo: fetches"
            ).rows {
                let channel = try row.decode(String.self, at: 0), attempt = try row.decode(Int.self, at: 1)
                let failed = try row.decode(Int.self, at: 2), requests = try row.decode(Int64.self, at: 4)
                let last = try row.decode(String?.self, at: 3).map { ", the last: \($0)" } ?? ""
                Swift.print(
                    "fetch \(channel): attempt \(attempt), \(requests) request\(requests == 1 ? "" : "s")"
                        + (failed > 0 ? "; \(failed) failed attempts retried\(last)" : ""))
            }
            let summary = try DayReport.summary(day: day, on: connection)
            let channels = Array(Set(summary.map(\.channel))).sorted()
            Swift.print(
                tableText(
                    ["channel or asset", "bill lines", "items", "matched", "carried over", "discrepancies"],
                    channels.map { channel in
                        let rows = summary.filter { $0.channel == channel }
                        func count(_ status: MatchStatus) -> Int64 {
                            rows.first { $0.status == status.rawValue }?.count ?? 0
                        }
                        let items = rows.reduce(0) { $0 + $1.count }
                        let matched = count(.matched), carried = count(.carriedOver)
                        return [
                            channel, lines[channel].map(String.init) ?? "-", String(items), String(matched),
                            String(carried), String(items - matched - carried),
                        ]
                    }), terminator: "")
            let discrepancies = summary.filter { $0.status != MatchStatus.matched.rawValue }
            Swift.print("discrepancies:")
            Swift.print(
                tableText(
                    ["channel or asset", "status", "count", "channel amount", "internal amount"],
                    discrepancies.map(\.cells)), terminator: "")
            if let settlement = try DayReport.settlement(day: day, on: connection) {
                var bySystem: [String: SettlementTotals] = [:]
                for (key, totals) in settlement {
                    var sum = bySystem[key.businessSystem] ?? SettlementTotals()
                    sum.count += totals.count
                    sum.grossFen += totals.grossFen
                    sum.refundsFen += totals.refundsFen
                    sum.feesFen += totals.feesFen
                    bySystem[key.businessSystem] = sum
                }
                Swift.print("settlement per business system:")
                Swift.print(
                    tableText(
                        ["business system", "items", "gross", "refunds", "fees", "net"],
                        bySystem.keys.sorted().map { system in
                            let totals = bySystem[system] ?? SettlementTotals()
                            return [
                                system, String(totals.count), Money.yuanText(fen: totals.grossFen),
                                Money.yuanText(fen: totals.refundsFen), Money.yuanText(fen: totals.feesFen),
                                Money.yuanText(fen: totals.netFen),
                            ]
                        }), terminator: "")
                Swift.print("settlement file: \(settlements)/settlement-\(day).csv")
            } else {
                Swift.print("not settled")
            }
            let carried = try DayReport.channelRows(
                day: day, filter: DayReport.Filter(status: .carriedOver), on: connection)
            if !carried.isEmpty {
                let resolved = Dictionary(grouping: carried.compactMap(\.resolvedOn)) { $0 }.mapValues(\.count)
                let open = carried.count - resolved.values.reduce(0, +)
                let fates =
                    resolved.keys.sorted().map { "\(resolved[$0] ?? 0) resolved on \($0)" }
                    + (open > 0 ? ["\(open) still open (their next day is not reconciled yet)"] : [])
                Swift.print(
                    "carried over to the next day: \(carried.count) items (payments near midnight, refunds booked "
                        + "a day late); " + fates.joined(separator: ", "))
            }
        }
        fflush(nil)  // every stream, before the unbuffered lines that follow
    }
}
