import Hummingbird
import ReconJobs
import ReconMetrics
import ReconPostgres

/// The worker-facing API: lease (long-poll), heartbeat, fail, snooze, release. Each call is one
/// short transaction; a long-poll holds no connection while it waits.
struct LeaseRoutes: Sendable {
    let pool: PGPool
    let wakeups: JobWakeups
    let leaseMilliseconds: Int64
    let outcomes: JobOutcomeLog

    func register(on router: Router<BasicRequestContext>, token: [UInt8]) {
        router.get(RouterPath(LeaseAPI.healthPath)) { _, _ in
            try await pool.query("SELECT 1", name: "health check")
            return jsonResponse(["status": "ok"])
        }
        let api = router.group()
            .add(middleware: APIFailureMiddleware())
            .add(middleware: BearerTokenMiddleware(token: token))
        api.post(RouterPath(LeaseAPI.leasePath)) { request, _ in try await lease(request) }
        api.post(RouterPath(LeaseAPI.heartbeatPath)) { request, _ in try await heartbeat(request) }
        api.post(RouterPath(LeaseAPI.failPath)) { request, _ in try await fail(request) }
        api.post(RouterPath(LeaseAPI.snoozePath)) { request, _ in try await snooze(request) }
        api.post(RouterPath(LeaseAPI.releasePath)) { request, _ in try await release(request) }
    }

    func lease(_ request: Request) async throws -> Response {
        let body = try await decodeBody(LeaseRequest.self, from: request)
        try checkWorker(body.worker)
        guard (1...50).contains(body.queues.count), body.queues.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 200 })
        else {
            throw badRequest("queues must name 1 to 50 queues, each 1 to 200 bytes")
        }
        guard (1...LeaseAPI.maxCount).contains(body.count) else {
            throw badRequest("count must be 1 to \(LeaseAPI.maxCount)")
        }
        guard (0...LeaseAPI.maxWaitMilliseconds).contains(body.waitMilliseconds) else {
            throw badRequest("waitMilliseconds must be 0 to \(LeaseAPI.maxWaitMilliseconds)")
        }
        guard (1...200).contains(body.requestId.utf8.count) else {
            throw badRequest("requestId must be 1 to 200 bytes")
        }
        let deadline = ContinuousClock.now + .milliseconds(body.waitMilliseconds)
        let leaseMilliseconds = self.leaseMilliseconds
        var first = true
        while true {
            let seen = wakeups.generation
            let jobs: [LeasedJob]
            do {
                let isFirst = first
                let outcome = try await pool.transaction(name: "lease") { connection -> ClaimOutcome in
                    if isFirst {
                        // The same request asked again (its answer was lost, or went to another
                        // coordinator): the jobs leased under it, not more.
                        if let recorded = try JobLedger.answer(to: body.requestId, worker: body.worker, on: connection)
                        {
                            return .recorded(recorded)
                        }
                    }
                    return .claimed(
                        try JobLedger.claim(
                            worker: body.worker, queues: body.queues, limit: body.count,
                            leaseMilliseconds: leaseMilliseconds, request: body.requestId, on: connection))
                }
                first = false
                switch outcome {
                case .recorded(let recorded):
                    return jsonResponse(LeaseResponse(jobs: recorded, leaseMilliseconds: leaseMilliseconds))
                case .claimed(let claimed): jobs = claimed
                }
            } catch is LeaseRequestAnswered {
                // Another coordinator answered this id meanwhile; our claim was rolled back.
                let answer = try await pool.transaction(name: "lease: answer again") { connection in
                    try JobLedger.answer(to: body.requestId, worker: body.worker, on: connection)
                }
                return jsonResponse(LeaseResponse(jobs: answer ?? [], leaseMilliseconds: leaseMilliseconds))
            } catch let error as JobError {
                throw badRequest(error.description)
            }
            let now = ContinuousClock.now
            for (kind, count) in Dictionary(jobs.map { ($0.kind, 1) }, uniquingKeysWith: +) {
                ReconMetrics.jobsLeased(kind: kind, count: count)
            }
            if !jobs.isEmpty || now >= deadline || Task.isCancelled {
                return jsonResponse(LeaseResponse(jobs: jobs, leaseMilliseconds: leaseMilliseconds))
            }
            // Woken by a NOTIFY for one of our queues. Scheduled jobs fall due without one: look
            // again at least every second (the claim promotes them).
            await wakeups.wait(for: body.queues, after: seen, timeout: min(deadline - now, .seconds(1)))
        }
    }

    func heartbeat(_ request: Request) async throws -> Response {
        let body = try await decodeBody(HeartbeatRequest.self, from: request)
        try checkWorker(body.worker)
        let acknowledged = body.acknowledged ?? []
        guard acknowledged.count <= 100, acknowledged.allSatisfy({ (1...200).contains($0.utf8.count) }) else {
            throw badRequest("acknowledged names at most 100 request ids, each 1 to 200 bytes")
        }
        let leaseMilliseconds = self.leaseMilliseconds
        let lost = try await pool.transaction(name: "heartbeat") { connection in
            if body.leases.isEmpty && !acknowledged.isEmpty {
                // An acknowledgement alone (one per lease answer) does not wait for its disk sync:
                // lost in a crash, it costs at most an attempt given back that was used.
                try connection.execute(script: "SET LOCAL synchronous_commit TO off", name: "acknowledge: async commit")
            }
            try JobLedger.acknowledge(acknowledged, worker: body.worker, on: connection)
            return try JobLedger.heartbeat(body.leases, leaseMilliseconds: leaseMilliseconds, on: connection)
        }
        return jsonResponse(HeartbeatResponse(lost: lost, leaseMilliseconds: leaseMilliseconds))
    }

    func fail(_ request: Request) async throws -> Response {
        let body = try await decodeBody(FailRequest.self, from: request)
        try checkWorker(body.worker)
        // Error texts are kept per attempt; a channel's whole HTML error page is not needed.
        let error = String(body.error.prefix(4000))
        let outcome = try await pool.transaction(name: "fail") { connection in
            var random = SystemRandomNumberGenerator()
            return try JobLedger.fail(
                body.lease, worker: body.worker, error: error, retryable: body.retryable,
                retryAfterMilliseconds: body.retryAfterMilliseconds, on: connection, random: &random)
        }
        guard case .recorded(let failed) = outcome else { throw APIFailure.leaseLost(body.lease.id) }
        outcomes.failed(failed, .reported)
        let state = failed.isDead ? JobState.dead : JobState.retryable
        return jsonResponse(FailResponse(state: state.rawValue, runAt: failed.retryAt?.microsecondsSince1970))
    }

    func snooze(_ request: Request) async throws -> Response {
        let body = try await decodeBody(SnoozeRequest.self, from: request)
        try checkWorker(body.worker)
        guard (0...(366 * 86_400_000)).contains(body.delayMilliseconds) else {
            throw badRequest("delayMilliseconds must be 0 to a year")
        }
        let outcome = try await pool.transaction(name: "snooze") { connection -> String? in
            let now = try connection.query("SELECT clock_timestamp()").first?.decode(PGTimestamp.self, at: 0)
            let runAt = PGTimestamp(
                microsecondsSince1970: (now?.microsecondsSince1970 ?? 0) + body.delayMilliseconds * 1000)
            guard try JobLedger.reschedule(body.lease, runAt: runAt, on: connection) == .done else { return nil }
            // The kind, for the snooze counter only.
            return try connection.query(
                "SELECT kind FROM recon_jobs WHERE id = $1", [body.lease.id], name: "snooze: kind"
            )
            .first?.decode(String.self, at: 0) ?? "?"
        }
        guard let kind = outcome else { throw APIFailure.leaseLost(body.lease.id) }
        ReconMetrics.jobSnoozed(kind: kind)
        return jsonResponse(["state": "scheduled"])
    }

    func release(_ request: Request) async throws -> Response {
        let body = try await decodeBody(ReleaseRequest.self, from: request)
        try checkWorker(body.worker)
        let (released, lost) = try await pool.transaction(name: "release") { connection in
            var released: [Int64] = []
            var lost: [Int64] = []
            for lease in body.leases {
                if try JobLedger.reschedule(lease, runAt: nil, on: connection) == .done {
                    released.append(lease.id)
                } else {
                    lost.append(lease.id)
                }
            }
            return (released, lost)
        }
        return jsonResponse(ReleaseResponse(released: released, lost: lost))
    }

    private func checkWorker(_ worker: String) throws {
        guard !worker.isEmpty, worker.utf8.count <= 200 else { throw badRequest("worker must be 1 to 200 bytes") }
    }

    private func badRequest(_ message: String) -> APIFailure {
        APIFailure(status: .badRequest, code: "bad_request", message: message)
    }
}

/// What a lease call's transaction found: the answer recorded for its request id earlier, or the
/// jobs it claimed now.
private enum ClaimOutcome: Sendable {
    case recorded([LeasedJob])
    case claimed([LeasedJob])
}
