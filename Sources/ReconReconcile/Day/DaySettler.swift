import Crypto
import Foundation
public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// settle(D) (issue 12, §4), in the job's fenced completion: once every configured channel of the
/// day is finalized and the virtual accounts are checked, sums what is settled per business
/// system, merchant and channel (a virtual asset in the channel column), replaces the day's
/// settlement rows and writes the settlement file atomically.
///
/// Only matched items that moved money on both sides are settled: a channel item whose leg
/// succeeded and whose bill line moved money, a virtual leg that succeeded with its ledger entry.
/// Everything else is a discrepancy, counted beside the settlement and never in it.
public enum DaySettler {
    public struct Outcome: Sendable {
        public var rows: [SettlementKey: SettlementTotals]
        public var discrepancies: Int64
        public var file: String?
        public var sha256: String?
    }

    /// What still runs for the day: reconcile and finalize jobs of D not yet completed, dead or
    /// cancelled (a rerun a late D−1 enqueued, or another run of the day), leaving out those that
    /// wait on a dead or cancelled job and so will never run. A settle waits until there are none,
    /// so that it never sums rows another job is still rewriting.
    public static func unfinishedWork(day: LocalDay, on connection: PGConnection) throws -> Int64 {
        try connection.query(
            """
            WITH RECURSIVE open AS (
                SELECT id, state FROM recon_jobs
                WHERE state NOT IN ('completed', 'dead', 'cancelled') AND kind IN ('reconcile', 'finalize')
                  AND args->>'date' = $1
            ), upstream (job, ancestor) AS (
                SELECT o.id, d.depends_on_id FROM open o JOIN recon_job_dependencies d ON d.job_id = o.id
                WHERE o.state = 'pending'
                UNION
                SELECT u.job, d.depends_on_id FROM upstream u
                JOIN recon_jobs a ON a.id = u.ancestor AND a.state = 'pending'
                JOIN recon_job_dependencies d ON d.job_id = a.id
            )
            SELECT count(*) FROM open o WHERE NOT EXISTS (
                SELECT 1 FROM upstream u JOIN recon_jobs a ON a.id = u.ancestor
                WHERE u.job = o.id AND a.state IN ('dead', 'cancelled'))
            """, ["\(day)"], name: "settle: unfinished work of the day"
        ).first?.decode(Int64.self, at: 0) ?? 0
    }

    public static func settle(
        day: LocalDay, channels: [String], folder: String?, jobID: Int64, on connection: PGConnection
    ) throws -> Outcome {
        // One settle of a day at a time, to its commit: two (after reruns of two channels) would
        // otherwise interleave their rows and their files.
        _ = try connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('recon settle ' || $1::text))", ["\(day)"],
            name: "settle: one at a time")
        let finalized = Set(
            try connection.query(
                """
                SELECT channel FROM recon_channel_days
                WHERE bill_date = $1 AND finalized_at IS NOT NULL AND channel = ANY($2::text[])
                """, [day.pgDate, PGArray(channels)], name: "settle: channels finalized"
            ).rows.map { try $0.decode(String.self, at: 0) })
        let waiting = channels.filter { !finalized.contains($0) }
        guard waiting.isEmpty else {
            throw ReconcileError("\(day) cannot settle yet: \(waiting.joined(separator: ", ")) not finalized")
        }
        guard
            try connection.query(
                "SELECT 1 FROM recon_virtual_days WHERE bill_date = $1", [day.pgDate], name: "settle: virtual checked"
            ).rowCount == 1
        else { throw ReconcileError("\(day) cannot settle yet: the virtual accounts are not checked") }

        var rows: [SettlementKey: SettlementTotals] = [:]
        for row in try connection.query(
            """
            SELECT business_system, merchant_id, channel, count(*),
                   coalesce(sum(internal_amount_fen) FILTER (WHERE internal_amount_fen > 0), 0)::int8,
                   coalesce(-sum(internal_amount_fen) FILTER (WHERE internal_amount_fen < 0), 0)::int8,
                   coalesce(sum(channel_fee_fen), 0)::int8
            FROM recon_results
            WHERE bill_date = $1 AND channel = ANY($2::text[]) AND status = 'matched' AND leg_status = 'success'
              AND channel_moved
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT business_system, merchant_id, asset, count(*),
                   coalesce(sum(internal_amount_fen) FILTER (WHERE internal_amount_fen > 0), 0)::int8,
                   coalesce(-sum(internal_amount_fen) FILTER (WHERE internal_amount_fen < 0), 0)::int8, 0::int8
            FROM recon_virtual_results
            WHERE bill_date = $1 AND status = 'matched' AND leg_status = 'success' AND entry_id <> ''
            GROUP BY 1, 2, 3
            """, [day.pgDate, PGArray(channels)], name: "settle: sums"
        ).rows {
            let key = SettlementKey(
                businessSystem: try row.decode(String.self, at: 0), merchantID: try row.decode(String.self, at: 1),
                channel: try row.decode(String.self, at: 2))
            rows[key] = SettlementTotals(
                count: try row.decode(Int64.self, at: 3), grossFen: try row.decode(Int64.self, at: 4),
                refundsFen: try row.decode(Int64.self, at: 5), feesFen: try row.decode(Int64.self, at: 6))
        }
        let discrepancies =
            try connection.query(
                """
                SELECT (SELECT count(*) FROM recon_results
                        WHERE bill_date = $1 AND channel = ANY($2::text[]) AND status <> 'matched')
                     + (SELECT count(*) FROM recon_virtual_results WHERE bill_date = $1 AND status <> 'matched')
                """, [day.pgDate, PGArray(channels)], name: "settle: discrepancies"
            ).first?.decode(Int64.self, at: 0) ?? 0

        _ = try connection.query(
            "DELETE FROM recon_settlements WHERE bill_date = $1", [day.pgDate], name: "settle: clear")
        let keys = rows.keys.sorted()
        if !keys.isEmpty {
            let totals = keys.map { rows[$0] ?? SettlementTotals() }
            _ = try connection.query(
                """
                INSERT INTO recon_settlements (bill_date, business_system, merchant_id, channel, items, gross_fen,
                    refunds_fen, fees_fen, net_fen)
                SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[],
                                         $8::int8[], $9::int8[])
                """,
                [
                    day.pgDate, PGArray(keys.map(\.businessSystem)), PGArray(keys.map(\.merchantID)),
                    PGArray(keys.map(\.channel)), PGArray(totals.map(\.count)), PGArray(totals.map(\.grossFen)),
                    PGArray(totals.map(\.refundsFen)), PGArray(totals.map(\.feesFen)), PGArray(totals.map(\.netFen)),
                ], name: "settle: rows")
        }
        var file: String?, sha256: String?
        if let folder {
            let text = SettlementCSV.text(rows)
            let path = "\(folder)/settlement-\(day).csv"
            try AtomicFile.write(Array(text.utf8), to: path)
            file = path
            sha256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        }
        _ = try connection.query(
            """
            INSERT INTO recon_settled_days (bill_date, file_path, file_sha256, discrepancies, job_id)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (bill_date) DO UPDATE SET settled_at = now(), file_path = EXCLUDED.file_path,
                file_sha256 = EXCLUDED.file_sha256, discrepancies = EXCLUDED.discrepancies, job_id = EXCLUDED.job_id
            """, [day.pgDate, file, sha256, discrepancies, jobID], name: "settle: the day")
        return Outcome(rows: rows, discrepancies: discrepancies, file: file, sha256: sha256)
    }
}

/// A file replaced whole or not at all: written beside its final name, flushed to disk, renamed
/// over it, and the folder flushed so the rename itself survives a crash.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = "\(path).tmp-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ReconcileError("cannot write \(temporary): errno \(errno)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return Foundation.write(descriptor, base + written, buffer.count - written)
            }
            guard result > 0 else {
                close(descriptor)
                unlink(temporary)
                throw ReconcileError("cannot write \(temporary): errno \(errno)")
            }
            written += result
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            unlink(temporary)
            throw ReconcileError("cannot flush \(temporary) to disk: errno \(errno)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ReconcileError("cannot rename \(temporary) to \(path): errno \(errno)")
        }
        let directory = open(folder, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
