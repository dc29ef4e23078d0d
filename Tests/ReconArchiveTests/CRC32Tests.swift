import Testing

@testable import ReconArchive

@Suite struct CRC32Tests {
    @Test(arguments: [
        ("123456789", 0xCBF4_3926 as UInt32),
        ("", 0),
        ("a", 0xE8B7_BE43),
        ("The quick brown fox jumps over the lazy dog", 0x414F_A339),
    ])
    func knownVectors(text: String, expected: UInt32) {
        #expect(CRC32.checksum(Array(text.utf8)) == expected)
        // A non-contiguous sequence takes the buffered path and must agree.
        #expect(CRC32.checksum(text.utf8.lazy.map { $0 }) == expected)
    }

    @Test func updatingInPiecesEqualsTheWhole() {
        let data = TestData.mixed(count: 200_000)
        var crc: UInt32 = 0
        TestData.pieces(data, chunk: 777) { crc = CRC32.update(crc, $0) }
        #expect(crc == CRC32.checksum(data))
        #expect(crc != 0)
    }
}
