public import Foundation
public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// One reconcile shard: the channel-day's bill lines and channel legs whose key hash lies in
/// `range`, with the carry-over window around the day's two midnights.
public struct ShardTask: Sendable {
    public var channel: String
    public var day: LocalDay
    public var range: ShardRange
    public var window: CarryWindow

    public init(channel: String, day: LocalDay, range: ShardRange, timeZone: TimeZone, windowMilliseconds: Int64) {
        self.channel = channel
        self.day = day
        self.range = range
        window = Self.window(day: day, timeZone: timeZone, milliseconds: windowMilliseconds)
    }

    /// The day's 00:00 and the next day's, in the channel's zone, each at its own offset.
    public static func window(day: LocalDay, timeZone: TimeZone, milliseconds: Int64) -> CarryWindow {
        let start = ZoneTime.instant(ofWallSeconds: Int64(day.dayNumber) * 86_400, in: timeZone)
        let next = ZoneTime.instant(ofWallSeconds: Int64(day.adding(days: 1).dayNumber) * 86_400, in: timeZone)
        return CarryWindow(
            dayStart: start * 1_000_000, nextDayStart: next * 1_000_000, widthMicroseconds: milliseconds * 1000)
    }

    var parameters: [any PGEncodable] { [channel, day.pgDate, range.lowerHash, range.upperHash] }
    var priorParameters: [any PGEncodable] { [channel, day.previous.pgDate, range.lowerHash, range.upperHash] }
}

/// The carried-over state of a channel-day within a key-hash range (every field the next day copies
/// from it; a row's text form tells NULL from ''), as one text: what the next
/// day's reconcile read, compared again when it commits and when the day is finalized, so a
/// change to it is never missed. '' when nothing is carried (or the day never ran: the same to
/// the next day).
public enum CarryDigest {
    /// Parameters: channel, day, lowest hash, highest hash.
    public static let sql = """
        SELECT coalesce(md5(string_agg(ROW(channel_txn_id, match_refund_key, lane, leg_id, line_no,
                   channel_amount_fen, channel_fee_fen, channel_moved, channel_time, internal_amount_fen,
                   internal_fee_fen, leg_status, occurred_at, business_system, merchant_id)::text,
                   E'\\n' ORDER BY channel_txn_id, match_refund_key, lane)), '')
        FROM recon_results
        WHERE channel = $1 AND bill_date = $2 AND status = 'carried_over' AND key_hash BETWEEN $3 AND $4
        """

    public static func read(
        channel: String, day: LocalDay, range: ShardRange, on connection: PGConnection
    ) throws -> String {
        try connection.query(
            sql, [channel, day.pgDate, range.lowerHash, range.upperHash], name: "carry digest"
        ).first?.decode(String.self, at: 0) ?? ""
    }
}
