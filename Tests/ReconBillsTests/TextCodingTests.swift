import ReconCore
import Testing

@testable import ReconBills

@Suite struct TextCodingTests {
    static let subjectGBK: [UInt8] = [0xB2, 0xE2, 0xCA, 0xD4, 0xC9, 0xCC, 0xC6, 0xB7, 0x41]

    @Test func gbkDecodesAndEncodesBothWays() throws {
        #expect(try GBK.decode(TextCodingTests.subjectGBK) == "测试商品A")
        #expect(try GBK.encode("测试商品A") == TextCodingTests.subjectGBK)
        #expect(try GBK.decode(Array("plain ASCII,\t".utf8)) == "plain ASCII,\t")
        #expect(try GBK.decode([UInt8]()) == "")
    }

    @Test(
        arguments: [
            ([0x41, 0xFF, 0x42], 1, "not valid GBK at byte 1"),
            ([0xB2, 0xE2, 0x41, 0xB2], 3, "cut off inside a character at byte 3"),
            ([0xB2, 0x0A], 0, "not valid GBK at byte 0"),
        ] as [([UInt8], Int, String)])
    func badGBKBytesAreRefusedNamingTheOffset(bytes: [UInt8], offset: Int, reason: String) {
        let error = #expect(throws: TextCodingError.self) { try GBK.decode(bytes) }
        #expect(error?.byteOffset == offset)
        #expect(error?.reason == reason)
    }

    @Test func oneDecoderServesManyCallsEvenAfterAFailure() throws {
        let decoder = try TextDecoder(.gbk)
        #expect(throws: TextCodingError.self) { try decoder.decode([0xB2]) }
        for _ in 0..<3 { #expect(try decoder.decode(TextCodingTests.subjectGBK) == "测试商品A") }
    }

    @Test func textGBKCannotHoldIsRefused() {
        let error = #expect(throws: TextCodingError.self) { try GBK.encode("ab😀") }
        #expect(error?.byteOffset == 2)
        #expect(error?.reason.contains("cannot be written in GBK") == true)
    }

    @Test func gb18030HoldsEveryCharacter() throws {
        let bytes = try TextEncoder(.gb18030).encode("测😀")
        #expect(bytes == [0xB2, 0xE2, 0x94, 0x39, 0xFC, 0x36])
        #expect(try TextDecoder(.gb18030).decode(bytes) == "测😀")
    }

    @Test func utf8IsValidatedWithTheOffset() throws {
        #expect(try TextDecoder.utf8.decode(Array("测试".utf8)) == "测试")
        let error = #expect(throws: TextCodingError.self) { try TextDecoder.utf8.decode([0x61, 0xC3, 0x28]) }
        #expect(error?.reason == "not valid UTF-8 at byte 1")
        let cut = #expect(throws: TextCodingError.self) { try TextDecoder.utf8.decode([0x61, 0xE6, 0xB5]) }
        #expect(cut?.reason == "cut off inside a character at byte 1")
    }

    @Test func onlyBytesBelowTheTrailRangeAreSafeToSplitOn() {
        for byte in [UInt8(ascii: ","), 9, 10, 13, UInt8(ascii: "\""), UInt8(ascii: ";")] {
            #expect(TextEncoding.gbk.isAlwaysASCII(byte) && TextEncoding.gb18030.isAlwaysASCII(byte))
        }
        // `|` is 0x7C, a valid GBK trail byte (e.g. 0x81 0x7C is 亅).
        #expect(!TextEncoding.gbk.isAlwaysASCII(UInt8(ascii: "|")))
        #expect(TextEncoding.utf8.isAlwaysASCII(UInt8(ascii: "|")))
    }
}
