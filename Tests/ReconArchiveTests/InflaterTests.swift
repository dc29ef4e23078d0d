import Testing

@testable import ReconArchive

@Suite struct InflaterTests {
    static let data = TestData.mixed(count: 5 << 20)

    /// Compresses with pushes of `chunk` bytes, then inflates with pushes of `chunk` bytes.
    @Test(arguments: [Inflater.Format.raw, .zlib, .gzip], [1, 7, 65537])
    func roundTripInOddPieces(format: Inflater.Format, chunk: Int) throws {
        let source = InflaterTests.data
        let deflater = try Deflater(format: format, level: 1)
        var compressed: [UInt8] = []
        // One-byte pushes into deflate would only test zlib's patience; 4099 is odd enough there.
        try TestData.pieces(source, chunk: chunk == 1 ? 4099 : chunk) { piece in
            try deflater.push(piece) { compressed.append(contentsOf: $0) }
        }
        try deflater.finish { compressed.append(contentsOf: $0) }
        #expect(deflater.totalIn == Int64(source.count))
        #expect(compressed.count < source.count)

        let inflater = try Inflater(format: format, maxOutputBytes: Int64(source.count), label: "round trip")
        var result: [UInt8] = []
        var largestPiece = 0
        try TestData.pieces(compressed, chunk: chunk) { piece in
            try inflater.push(piece) { output in
                largestPiece = max(largestPiece, output.count)
                result.append(contentsOf: output)
            }
        }
        try inflater.finish()
        #expect(result == source)
        #expect(inflater.totalOut == Int64(source.count))
        #expect(largestPiece <= 1 << 16)
    }

    @Test(arguments: [Inflater.Format.raw, .zlib, .gzip])
    func emptyInputRoundTrips(format: Inflater.Format) throws {
        let compressed = try Deflater.deflate([], format: format)
        #expect(try Inflater.inflate(compressed, format: format, maxOutputBytes: 0, label: "empty").isEmpty)
    }

    @Test func theWrongFormatIsRefused() throws {
        let gzip = try Deflater.deflate(Array("hello".utf8), format: .gzip)
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflate(gzip, format: .zlib, maxOutputBytes: 100, label: "bill.gz")
        }
        #expect(error?.check == "zlib")
        #expect(error?.reason == "incorrect header check")
        #expect(error?.description == "bill.gz: zlib: incorrect header check")
    }

    @Test func aTruncatedGzipIsRefused() throws {
        let gzip = try Deflater.deflate(TestData.mixed(count: 100_000), format: .gzip)
        for cut in [gzip.count - 1, gzip.count - 8, gzip.count / 2, 5] {
            let error = #expect(throws: ArchiveError.self) {
                _ = try Inflater.inflate(
                    Array(gzip.prefix(cut)), format: .gzip, maxOutputBytes: 1 << 20, label: "t.gz")
            }
            #expect(error?.check == "gzip")
            #expect(error?.reason.hasPrefix("truncated") == true)
        }
    }

    @Test(arguments: [8, 7, 4, 1])
    func aFlippedTrailerByteIsRefused(fromEnd: Int) throws {
        // The last 8 bytes are the CRC-32 (first 4) and ISIZE (last 4).
        var gzip = try Deflater.deflate(Array("2026-11-23,50.00\r\n".utf8), format: .gzip)
        gzip[gzip.count - fromEnd] ^= 0x01
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflate(gzip, format: .gzip, maxOutputBytes: 1000, label: "t.gz")
        }
        #expect(error?.check == "gzip")
        #expect(error?.reason == (fromEnd > 4 ? "incorrect data check" : "incorrect length check"))
    }

    @Test func aZlibStreamWithABadAdler32IsRefused() throws {
        var zlib = try Deflater.deflate(Array("UnionPay ZM file".utf8), format: .zlib)
        zlib[zlib.count - 2] ^= 0x40
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflate(zlib, format: .zlib, maxOutputBytes: 1000, label: "fileContent")
        }
        #expect(error?.check == "zlib")
        #expect(error?.reason == "incorrect data check")
    }

    @Test func trailingBytesAfterTheStreamAreRefused() throws {
        let gzip = try Deflater.deflate(Array("one member".utf8), format: .gzip)
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflate(gzip + gzip, format: .gzip, maxOutputBytes: 1000, label: "t.gz")
        }
        #expect(error?.reason == "\(gzip.count) trailing bytes after the end of the gzip stream")
        // The same bytes arriving in a later push are refused too.
        let inflater = try Inflater(format: .gzip, maxOutputBytes: 1000, label: "t.gz")
        try gzip.withUnsafeBytes { try inflater.push($0) { _ in } }
        #expect(throws: ArchiveError.self) { try [UInt8(0)].withUnsafeBytes { try inflater.push($0) { _ in } } }
    }

    @Test func aZipBombStopsAtTheCapAndIsNeverWrittenPastIt() throws {
        // 100 MB of zeros compresses to about 100 KB.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let deflater = try Deflater(format: .gzip, level: 9)
        var bomb: [UInt8] = []
        for _ in 0..<100 { try zeros.withUnsafeBytes { try deflater.push($0) { bomb.append(contentsOf: $0) } } }
        try deflater.finish { bomb.append(contentsOf: $0) }
        #expect(bomb.count < 200_000)

        let cap: Int64 = 1 << 20
        let inflater = try Inflater(format: .gzip, maxOutputBytes: cap, label: "bomb.gz")
        var received: Int64 = 0
        let error = #expect(throws: ArchiveError.self) {
            try TestData.pieces(bomb, chunk: 4096) { piece in
                try inflater.push(piece) { received += Int64($0.count) }
            }
        }
        #expect(error?.check == "size cap")
        #expect(error?.file == "bomb.gz")
        #expect(received <= cap)
        #expect(received > 0)
        // Exactly at the cap is allowed.
        #expect(
            try Inflater.inflate(bomb, format: .gzip, maxOutputBytes: 100 << 20, label: "bomb.gz").count == 100 << 20)
    }
}
