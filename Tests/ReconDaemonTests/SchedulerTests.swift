import Foundation
import ReconConfig
import ReconCore
import ReconPostgres
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct SchedulerTests {
    static let jobFile = """
        [[schedule]]
        name = "nightly"
        cron = "0 0 * * *"
        time_zone = "Asia/Shanghai"
        kind = "probe"
        queue = "nightly"
        args = { day = "{yesterday}" }
        unique_key = "nightly:{yesterday}"
        catch_up = "50h"
        """

    @Test func twoCoordinatorsCatchUpMissedFiringsAndEnqueueEachOnce() async throws {
        let folder = NSTemporaryDirectory() + "recon-jobs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SchedulerTests.jobFile.write(toFile: folder + "/nightly.toml", atomically: true, encoding: .utf8)
        let definition = try #require(try JobFile.loadSchedules(directory: folder).first)
        // The firings a coordinator that was down must catch up on: midnights in Shanghai in the last 50 h.
        let now = Date()
        let expected = definition.schedule.fires(between: now.addingTimeInterval(-50 * 3600), and: now)
        #expect(expected.count >= 2)

        let harness = try await DaemonHarness(label: "cron")
        try await harness.startCoordinator(jobs: folder)
        try await harness.startCoordinator(jobs: folder)
        try await eventually("the missed firings were enqueued", timeout: .seconds(20)) {
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE queue = 'nightly'") >= Int64(expected.count)
        }
        // A few more ticks of both schedulers change nothing.
        try await Task.sleep(for: .seconds(3))
        #expect(
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE queue = 'nightly'") == Int64(expected.count))
        // One job per Shanghai day, named for the day before the midnight it fired at.
        let days = try await harness.pool.query(
            "SELECT args->>'day', unique_key FROM recon_jobs WHERE queue = 'nightly' ORDER BY 1"
        ).rows.map { try $0.decode(String.self, at: 0) }
        let expectedDays = expected.map { definition.schedule.localDay(of: $0).previous.description }.sorted()
        #expect(days == expectedDays)

        // A restart (both down, one up again) enqueues nothing new.
        await harness.stopAll()
        try await harness.startCoordinator(jobs: folder)
        try await Task.sleep(for: .seconds(3))
        #expect(
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE queue = 'nightly'") == Int64(expected.count))
        await harness.stopAll()
    }

    @Test func aBadJobFileStopsTheCoordinatorWithFileLineAndKey() async throws {
        let folder = NSTemporaryDirectory() + "recon-jobs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broken = SchedulerTests.jobFile.replacingOccurrences(of: "catch_up = \"50h\"", with: "catchup = \"50h\"")
        try broken.write(toFile: folder + "/nightly.toml", atomically: true, encoding: .utf8)
        let harness = try await DaemonHarness(label: "cronbad")
        let process = try DaemonProcess(
            name: "bad-coordinator", arguments: ["coordinator", "--listen", "127.0.0.1:0", "--jobs", folder],
            environment: harness.environment)
        #expect(try await process.waitForExit() != 0)
        #expect(process.output.contains("nightly.toml:9"), "\(process.output)")
        #expect(process.output.contains("unknown key `schedule[0].catchup`"), "\(process.output)")
    }
}
