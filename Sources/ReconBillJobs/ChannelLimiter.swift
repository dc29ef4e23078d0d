import Foundation
public import ReconChannels
public import ReconConfig
public import ReconCore
public import ReconJobs
public import ReconPostgres
import Synchronization

/// Holds every worker on every machine to a channel's limits: at most `concurrentRequests`
/// requests in flight and `requestsPerSecond` started per second. Channels throttle and ban
/// merchants that hammer them, so scaling out must never become a flood against one channel.
///
/// Both limits live in PostgreSQL, the one thing every worker shares. A request takes a slot row
/// (`recon_channel_slots`) for its length; then it reserves its start time in `recon_channel_pace`
/// (one interval after the previous reservation) and sleeps until then. A worker killed
/// mid-download cannot keep its slot: the row names the job lease it was taken under and is free
/// as soon as that lease is gone (the reaper returned the job, it was leased again or ended), and
/// in any case at its expiry. An expired but unreaped lease still counts as held: a late
/// heartbeat revives it, and the limit must hold while the coordinator is away.
public final class ChannelLimiter: ChannelPermits {
    private let pool: PGPool
    /// The job lease this limiter's requests run under; nil outside a job (a slot then waits for
    /// its expiry if its holder dies).
    private let lease: LeaseRef?
    /// Channels whose slot rows this process has sized to the configured limit.
    private let prepared = Mutex<[String: Int]>([:])

    public init(pool: PGPool, lease: LeaseRef? = nil) {
        self.pool = pool
        self.lease = lease
    }

    /// Runs `body` holding one of the channel's request slots, at a start time its pace allows.
    public func withPermit<T: Sendable>(
        channel: String, limits: ChannelLimits, holder: String, maxHoldMilliseconds: Int64,
        _ body: () async throws -> T
    ) async throws -> T {
        try await prepare(channel: channel, limits: limits)
        let slot = try await acquireSlot(
            channel: channel, limits: limits, holder: holder, holdMilliseconds: maxHoldMilliseconds)
        let result: Result<T, any Error>
        do {
            try await waitForPace(channel: channel, limits: limits)
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        // Freed in a task of its own: a cancelled fetch (lost lease, timeout, SIGTERM) must give
        // its slot back now, not when the expiry passes, and a cancelled task could not query.
        let pool = self.pool
        await Task.detached {
            await Self.release(pool: pool, channel: channel, slot: slot, holder: holder)
        }.value
        return try result.get()
    }

    private func prepare(channel: String, limits: ChannelLimits) async throws {
        let count = limits.concurrentRequests
        if prepared.withLock({ $0[channel] == count }) { return }
        try await pool.transaction(name: "limiter: size slots") { connection in
            try connection.query(
                """
                INSERT INTO recon_channel_slots (channel, slot)
                SELECT $1, g FROM generate_series(0, $2::int - 1) AS g ON CONFLICT DO NOTHING
                """, [channel, count], name: "limiter: add slots")
            try connection.query(
                "DELETE FROM recon_channel_slots WHERE channel = $1 AND slot >= $2", [channel, count],
                name: "limiter: drop slots")
        }
        prepared.withLock { $0[channel] = count }
    }

    private func acquireSlot(channel: String, limits: ChannelLimits, holder: String, holdMilliseconds: Int64)
        async throws -> Int
    {
        var wait = 20
        while true {
            try Task.checkCancellation()
            let slot = try await pool.query(
                """
                UPDATE recon_channel_slots
                SET holder = $2, expires_at = clock_timestamp() + $3 * interval '1 millisecond', job_id = $5,
                    lease_token = $6
                WHERE (channel, slot) = (
                    SELECT s.channel, s.slot FROM recon_channel_slots s
                    WHERE s.channel = $1 AND s.slot < $4
                        AND (s.holder IS NULL OR s.expires_at < clock_timestamp()
                            OR (s.job_id IS NOT NULL AND NOT EXISTS (
                                SELECT 1 FROM recon_jobs j
                                WHERE j.id = s.job_id AND j.lease_token = s.lease_token AND j.state = 'running')))
                    ORDER BY s.slot LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING slot
                """,
                [channel, holder, holdMilliseconds, limits.concurrentRequests, lease?.id, lease?.token],
                name: "limiter: take slot"
            ).first.map { try $0.decode(Int.self, at: 0) }
            if let slot { return slot }
            // Every slot is busy: poll with jitter, so waiting workers do not wake in step.
            try await Task.sleep(for: .milliseconds(Int.random(in: wait / 2...wait)))
            wait = min(wait * 2, 250)
        }
    }

    private func waitForPace(channel: String, limits: ChannelLimits) async throws {
        let intervalMicroseconds = Int64(1_000_000 / max(1, limits.requestsPerSecond))
        guard
            let row = try await pool.query(
                """
                INSERT INTO recon_channel_pace AS p (channel, next_start)
                VALUES ($1, clock_timestamp() + $2 * interval '1 microsecond')
                ON CONFLICT (channel) DO UPDATE
                    SET next_start = greatest(p.next_start, clock_timestamp()) + $2 * interval '1 microsecond'
                RETURNING (extract(epoch FROM (next_start - $2 * interval '1 microsecond' - clock_timestamp())) * 1000000)::int8
                """, [channel, intervalMicroseconds], name: "limiter: reserve start"
            ).first
        else { return }
        let waitMicroseconds = try row.decode(Int64.self, at: 0)
        if waitMicroseconds > 0 {
            try await Task.sleep(for: .microseconds(waitMicroseconds))
        }
    }

    private static func release(pool: PGPool, channel: String, slot: Int, holder: String) async {
        // If this fails the slot's expiry frees it; nothing else depends on it.
        _ = try? await pool.query(
            """
            UPDATE recon_channel_slots SET holder = NULL, expires_at = NULL, job_id = NULL, lease_token = NULL
            WHERE channel = $1 AND slot = $2 AND holder = $3
            """,
            [channel, slot, holder], name: "limiter: free slot")
    }
}
