import Foundation
import ReconCore
import ReconFixtures
import ReconTestSupport
import Testing

/// One trial of a fault trial: its seed and the draws from it, a day of its own (three apart
/// going back from DayRunTests.day, so no trial's day is another's day before or after) with its
/// files given, and `recon run-day` following that day.
struct TrialDay {
    let trial: Int
    let seed: UInt64
    var random: SplitMix64
    let synthetic: SyntheticDay
    let follower: DaemonProcess
    var day: LocalDay { synthetic.day }

    /// Trial i uses seed `firstSeed + i`, so a failing trial replays alone from its own seed.
    init(_ setup: DayRunTests.Setup, trial: Int, firstSeed: UInt64) throws {
        self.trial = trial
        seed = firstSeed &+ UInt64(trial)
        random = SplitMix64(seed: seed)
        synthetic = setup.synthetic.on(DayRunTests.day.adding(days: -3 * trial))
        try DayRunTests.giveDay(setup, synthetic)
        follower = try DaemonProcess(
            name: "run-day-\(synthetic.day)",
            arguments: ["run-day", "--date", "\(synthetic.day)", "--jobs", setup.fixture.jobs],
            environment: setup.environment)
    }

    /// A delay drawn from the seed, under `limit` milliseconds.
    mutating func draw(below limit: Int) -> Int { Int(random.next() % UInt64(limit)) }

    /// Waits for run-day to settle the day, then compares the day with a clean run's.
    func finish(_ setup: DayRunTests.Setup, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> DayVerdict
    {
        let status = try await follower.waitForExit(timeout: .seconds(300))
        #expect(
            status == 0, "trial \(trial) (seed \(seed)): run-day exited \(status): \(follower.output.suffix(2000))",
            sourceLocation: sourceLocation)
        let verdict = try await DayVerdict.of(setup, synthetic)
        #expect(verdict.isClean, "trial \(trial) (seed \(seed)): \(verdict)", sourceLocation: sourceLocation)
        return verdict
    }
}
