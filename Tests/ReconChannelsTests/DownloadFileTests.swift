import Foundation
import ReconCalendar
import ReconChannels
import ReconCore
import ReconHTTP
import ReconMockChannel
import ReconTestSupport
import Testing

/// `FetchSession.downloadFile` against the mock's file server: what a part file left behind
/// turns into.
@Suite(.tags(.integration), .skippedWhenFast) struct DownloadFileTests {
    static let day = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 20))

    /// A part file the server cannot continue (416): the whole file as it was before the rename
    /// (a crash in between), or longer than the file now is. It is dropped and the file fetched
    /// from byte 0, and what ends up under the final name is exactly what the server has.
    @Test(arguments: [0, 1000])
    func refusedRangeRestartsFromZero(extraBytes: Int) async throws {
        try await withMockChannel { mock in
            let url = mock.bankURL(Self.day)
            let served = try await HTTPClient().send(HTTPRequest(url: url))
            let tag = try #require(served.headers["ETag"])
            #expect(served.status == 200 && !served.body.isEmpty)

            let session = mock.session(try mock.bankChannel(), day: Self.day)
            let partial = session.workFolder + "/bill.part"
            try FileManager.default.createDirectory(atPath: session.workFolder, withIntermediateDirectories: true)
            try (served.body + Data(repeating: 0xEE, count: extraBytes)).write(to: URL(fileURLWithPath: partial))
            // The validator matches, so the Range is honoured, and is past the end.
            try Data(tag.utf8).write(to: URL(fileURLWithPath: partial + ".validator"))

            let (result, path) = try await session.downloadFile(
                step: "download", HTTPRequest(url: url), name: "bill", maxBytes: 1 << 20)
            #expect(result.status == 200)
            #expect(result.resumedFrom == 0)
            let final = try #require(path)
            let written = try Data(contentsOf: URL(fileURLWithPath: final))
            #expect(written == served.body)
            // The 416 and then the plain GET, after the first GET above.
            #expect(mock.server.stats.snapshot.requests["bank"] == 3)
            let sidecar = try await HTTPClient().send(HTTPRequest(url: url + ".sha256"))
            let announced = String(decoding: sidecar.body.prefix(64), as: UTF8.self)
            #expect(try await FileDigest.sha256(path: final) == announced)
            #expect(!FileManager.default.fileExists(atPath: partial))
            #expect(!FileManager.default.fileExists(atPath: partial + ".validator"))
        }
    }
}
