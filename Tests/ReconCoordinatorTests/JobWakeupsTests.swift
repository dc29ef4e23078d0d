import Testing

@testable import ReconCoordinator

/// Long-polls wake for their own queues only: a NOTIFY for another queue leaves them waiting.
@Suite struct JobWakeupsTests {
    /// Waits on `queues` in a task of its own; the task's value is whether it woke before the timeout.
    func waiter(_ wakeups: JobWakeups, _ queues: [String], timeout: Duration = .seconds(60)) -> Task<Bool, Never> {
        let seen = wakeups.generation
        return Task {
            let started = ContinuousClock.now
            await wakeups.wait(for: queues, after: seen, timeout: timeout)
            return ContinuousClock.now - started < timeout
        }
    }

    func untilWaiting(_ wakeups: JobWakeups, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while wakeups.waiting < count && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(wakeups.waiting == count)
    }

    @Test func aBumpWakesOnlyTheWaitersOfItsQueue() async throws {
        let wakeups = JobWakeups()
        let bills = waiter(wakeups, ["bills"])
        let both = waiter(wakeups, ["default", "bills"])
        let other = waiter(wakeups, ["default"], timeout: .milliseconds(600))
        try await untilWaiting(wakeups, 3)
        wakeups.bump(queue: "bills")
        #expect(await bills.value)
        #expect(await both.value)
        // Not woken by the bills queue's bump: it waits out its timeout.
        #expect(await other.value == false)
    }

    @Test func aBumpBetweenTheClaimAndTheWaitIsNotLostAndBumpAllWakesEveryone() async throws {
        let wakeups = JobWakeups()
        let seen = wakeups.generation
        wakeups.bump(queue: "default")
        let started = ContinuousClock.now
        await wakeups.wait(for: ["default"], after: seen, timeout: .seconds(60))
        #expect(ContinuousClock.now - started < .seconds(60))
        let first = waiter(wakeups, ["a"])
        let second = waiter(wakeups, ["b"])
        try await untilWaiting(wakeups, 2)
        wakeups.bumpAll()
        #expect(await first.value)
        #expect(await second.value)
    }
}
