import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres

/// Decides each item under the matching rules and writes it to the spool as a `recon_results`
/// row, counting statuses and noting what became of carried items.
struct ResultWriter {
    static let columns = [
        "channel", "bill_date", "channel_txn_id", "match_refund_key", "lane", "key_hash", "status", "carried_from",
        "line_no", "channel_amount_fen", "channel_fee_fen", "channel_moved", "channel_time", "leg_id",
        "internal_amount_fen", "internal_fee_fen", "leg_status", "business_system", "merchant_id", "occurred_at",
    ]

    let task: ShardTask
    let spool: ResultSpool
    private var row = PGBinaryCopyRow(capacity: 512)
    private(set) var resolutions: [ShardReconciler.Resolution] = []
    private(set) var counts: [MatchStatus: Int64] = [:]
    /// Per status, the items' absolute amounts: the bill's where it has the item, else the leg's.
    private(set) var amounts: [MatchStatus: Int64] = [:]

    init(task: ShardTask, spool: ResultSpool) {
        self.task = task
        self.spool = spool
    }

    mutating func write(_ items: [DecidedItem], window: CarryWindow) throws {
        for item in items { try write(item, window: window) }
    }

    mutating func write(_ decided: DecidedItem, window: CarryWindow) throws {
        let status = MatchRules.decide(decided.item, window: window)
        counts[status, default: 0] += 1
        if decided.carriedFrom != nil {
            resolutions.append(.init(key: decided.item.key, lane: decided.carriedLane, status: status))
        }
        let key = decided.item.key
        let line = decided.item.channel, leg = decided.item.leg
        amounts[status, default: 0] += Int64(clamping: (line?.amountFen ?? leg?.amountFen ?? 0).magnitude)
        row.reset()
        row.append(task.channel)
        row.append(task.day.pgDate)
        row.append(key.transactionID)
        row.append(key.refundID)
        row.append(decided.lane)
        row.append(key.keyHash)
        row.append(status.rawValue)
        row.append(decided.carriedFrom?.pgDate)
        row.append(line.map { Int64($0.lineNumber) })
        row.append(line?.amountFen)
        row.append(line?.feeFen)
        row.append(line.map { $0.movedMoney ? 1 : 0 } as Int64?)
        row.append(line.map { PGTimestamp(microsecondsSince1970: $0.timeMicroseconds) })
        row.append(leg?.legID)
        row.append(leg?.amountFen)
        row.append(leg?.feeFen)
        row.append(leg?.status.rawValue)
        row.append(leg?.businessSystem)
        row.append(leg?.merchantID)
        row.append(leg.map { PGTimestamp(microsecondsSince1970: $0.occurredAtMicroseconds) })
        row.end()
        try spool.append(row)
    }
}
