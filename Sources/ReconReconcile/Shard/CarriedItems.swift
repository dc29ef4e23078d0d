import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres

/// An item to write: what the merge (or the carry-over) made of it, its lane, and whether a side
/// of it came from the day before's carried-over items.
struct DecidedItem {
    var item: MatchItem
    var lane: Int64 = 0
    /// Set when a side was carried from the day before; `carriedLane` is that row's lane there.
    var carriedFrom: LocalDay?
    var carriedLane: Int64 = 0
}

/// The day before's `carried_over` items of one shard, by key, waiting to meet this day's items.
/// They are few (only unpaired items within minutes of midnight), so they are held in memory.
struct CarriedItems {
    let day: LocalDay
    private var lines: [MatchKey: (side: ChannelSide, lane: Int64)] = [:]
    private var legs: [MatchKey: (side: InternalSide, lane: Int64)] = [:]

    init(day: LocalDay) { self.day = day }

    static func read(_ task: ShardTask, on connection: PGConnection) throws -> CarriedItems {
        var carried = CarriedItems(day: task.day.previous)
        for row in try connection.query(
            """
            SELECT channel_txn_id, match_refund_key, key_hash, channel_amount_fen, channel_fee_fen,
                   CASE WHEN channel_moved THEN NULL ELSE 'FAILED' END, channel_time, line_no,
                   leg_id, internal_amount_fen, internal_fee_fen, leg_status, occurred_at, business_system, merchant_id,
                   lane
            FROM recon_results
            WHERE channel = $1 AND bill_date = $2 AND status = 'carried_over' AND key_hash BETWEEN $3 AND $4
            """, task.priorParameters, name: "reconcile: carried items of the day before"
        ).rows {
            let lane = try row.decode(Int64.self, at: 15)
            if try row.decode(String?.self, at: 8) == nil {
                let side = try line(row)
                carried.lines[side.key] = (side, lane)
            } else {
                let side = try InternalSide(
                    legID: row.decode(String.self, at: 8),
                    key: MatchKey(
                        transactionID: row.decode(String.self, at: 0), refundID: row.decode(String.self, at: 1)),
                    amountFen: row.decode(Int64.self, at: 9), feeFen: row.decode(Int64.self, at: 10),
                    status: legStatus(row.decode(String.self, at: 11)),
                    occurredAtMicroseconds: row.decode(PGTimestamp.self, at: 12).microsecondsSince1970,
                    businessSystem: row.decode(String?.self, at: 13) ?? "",
                    merchantID: row.decode(String?.self, at: 14) ?? "")
                carried.legs[side.key] = (side, lane)
            }
        }
        return carried
    }

    /// A staged line row: txn id, refund key, hash, amount, fee, channel status, time, line number.
    static func line(_ row: PGRow) throws -> ChannelSide {
        try ChannelSide(
            key: MatchKey(transactionID: row.decode(String.self, at: 0), refundID: row.decode(String.self, at: 1)),
            amountFen: row.decode(Int64.self, at: 3), feeFen: row.decode(Int64.self, at: 4),
            movedMoney: ChannelSide.movedMoney(channelStatus: row.decode(String?.self, at: 5)),
            timeMicroseconds: row.decode(PGTimestamp.self, at: 6).microsecondsSince1970,
            lineNumber: Int(row.decode(Int64.self, at: 7)))
    }

    /// A payment leg row: txn id, refund key, hash, amount, fee, status, occurred_at, leg id,
    /// business system, merchant id.
    static func leg(_ row: PGRow) throws -> InternalSide {
        try InternalSide(
            legID: row.decode(String.self, at: 7),
            key: MatchKey(transactionID: row.decode(String.self, at: 0), refundID: row.decode(String.self, at: 1)),
            amountFen: row.decode(Int64.self, at: 3), feeFen: row.decode(Int64.self, at: 4),
            status: legStatus(row.decode(String.self, at: 5)),
            occurredAtMicroseconds: row.decode(PGTimestamp.self, at: 6).microsecondsSince1970,
            businessSystem: row.decode(String.self, at: 8), merchantID: row.decode(String.self, at: 9))
    }

    static func legStatus(_ text: String) throws -> LegStatus {
        guard let status = LegStatus(rawValue: text) else {
            throw ReconcileError("a leg has the status \(text), which is none of success, failed, pending, closed")
        }
        return status
    }

    /// The day's item, with any carried item of the same key: a lone item meets a carried item of
    /// the other side; a carried item that cannot meet it stands apart in lane 1.
    mutating func absorb(_ item: MatchItem) -> [DecidedItem] {
        let key = item.key
        guard lines[key] != nil || legs[key] != nil else { return [DecidedItem(item: item)] }
        var decided: [DecidedItem] = []
        switch item {
        case .channelOnly(let line):
            if let carried = legs.removeValue(forKey: key) {
                decided.append(
                    DecidedItem(item: .pair(line, carried.side), carriedFrom: day, carriedLane: carried.lane))
            } else {
                decided.append(DecidedItem(item: item))
            }
        case .legOnly(let leg):
            if let carried = lines.removeValue(forKey: key) {
                decided.append(
                    DecidedItem(item: .pair(carried.side, leg), carriedFrom: day, carriedLane: carried.lane))
            } else {
                decided.append(DecidedItem(item: item))
            }
        case .pair:
            decided.append(DecidedItem(item: item))
        }
        // Whatever carried item of this key is left could not meet the day's item.
        if let carried = lines.removeValue(forKey: key) {
            decided.append(
                DecidedItem(item: .channelOnly(carried.side), lane: 1, carriedFrom: day, carriedLane: carried.lane))
        }
        if let carried = legs.removeValue(forKey: key) {
            decided.append(
                DecidedItem(item: .legOnly(carried.side), lane: 1, carriedFrom: day, carriedLane: carried.lane))
        }
        return decided
    }

    /// Carried items whose key the day does not have at all: each decided alone, in lane 0.
    /// In merge order, so that a fresh run inserts its rows in the same order every time.
    func remaining() -> [DecidedItem] {
        (lines.values.map { DecidedItem(item: .channelOnly($0.side), carriedFrom: day, carriedLane: $0.lane) }
            + legs.values.map { DecidedItem(item: .legOnly($0.side), carriedFrom: day, carriedLane: $0.lane) })
            .sorted { MatchKey.mergePrecedes($0.item.key, $1.item.key) }
    }
}
