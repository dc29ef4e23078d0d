import HTTPTypes
import Hummingbird
import NIOCore
import ReconMetrics
import ReconPostgres
import Synchronization

/// `GET /metrics`: this coordinator's counters, and the jobs by queue and state read from the
/// table at each scrape.
///
/// Served without the API token: Prometheus scrapers do not send one, and nothing here is a
/// secret or names a merchant. The labels are job kinds, queues, states and channel names (all
/// from our own job files), and the values are counts and durations. The route is read-only and
/// costs one GROUP BY on an indexed table.
struct MetricsRoute: Sendable {
    let pool: PGPool
    let depths = QueueDepths()

    func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in
            try await depths.refresh(from: pool)
            var headers = HTTPFields()
            headers[.contentType] = ReconMetrics.contentType
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: ReconMetrics.exposition())))
        }
    }
}

/// The `recon_jobs{queue,state}` gauges. A pair seen once and gone since (no job left in that
/// state) reads 0 rather than keeping its old count. Several coordinators each report the same
/// table: aggregate these gauges with max, not sum.
final class QueueDepths: Sendable {
    private let seen = Mutex<Set<[String]>>([])

    func refresh(from pool: PGPool) async throws {
        let rows = try await pool.query(
            "SELECT queue, state, count(*) FROM recon_jobs GROUP BY queue, state",
            name: "metrics: jobs by queue and state")
        var now: [[String]: Int64] = [:]
        for row in rows.rows {
            now[[try row.decode(String.self, at: 0), try row.decode(String.self, at: 1)]] = try row.decode(
                Int64.self, at: 2)
        }
        let gone = seen.withLock { seen in
            let gone = seen.subtracting(now.keys)
            seen.formUnion(now.keys)
            return gone
        }
        for (pair, count) in now { ReconMetrics.jobs(queue: pair[0], state: pair[1], count: count) }
        for pair in gone { ReconMetrics.jobs(queue: pair[0], state: pair[1], count: 0) }
    }
}
