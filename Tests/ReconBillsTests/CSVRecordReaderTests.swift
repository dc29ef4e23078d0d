import ReconCore
import Testing

@testable import ReconBills

@Suite struct CSVRecordReaderTests {
    func read(_ text: String, delimiter: Character = ",", chunk: Int = 1 << 20) throws -> [([String], Int)] {
        var reader = CSVRecordReader(delimiter: UInt8(ascii: delimiter.unicodeScalars.first ?? ","))
        var records: [([String], Int)] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try reader.feed(bytes[start..<min(start + chunk, bytes.count)]) { record in
                records.append((record.fields.map { String(decoding: $0, as: UTF8.self) }, record.line))
            }
        }
        try reader.finish { record in
            records.append((record.fields.map { String(decoding: $0, as: UTF8.self) }, record.line))
        }
        return records
    }

    static let bankFile =
        "txn_time,channel_txn_id,merchant_order_id,refund_id,kind,amount,fee,currency,status\r\n"
        + "2026-11-23 09:15:07,B000000001,R20261123000001,,payment,50.00,0.25,CNY,SUCCESS\r\n"
        + "2026-11-23 17:40:11,B000000002,\"R2026,\"\"quoted\"\"\",RF20261123000001,refund,-20.00,-0.10,CNY,SUCCESS\r\n"
        + "2026-11-23 18:00:00,B000000003,\"two\nlines\",,payment,1.00,0.00,CNY,SUCCESS\n"
        + "#TOTAL,3,31.00,0.15"

    @Test(arguments: [1, 2, 7, 1 << 20])
    func recordsSplitTheSameWhateverTheChunks(chunk: Int) throws {
        let records = try read(CSVRecordReaderTests.bankFile, chunk: chunk)
        #expect(records.count == 5)
        #expect(records[0].0.count == 9)
        #expect(records[1].0[5] == "50.00" && records[1].0[3] == "")
        #expect(records[2].0[2] == "R2026,\"quoted\"")
        #expect(records[3].0[2] == "two\nlines")
        #expect(records.map(\.1) == [1, 2, 3, 4, 6])
        #expect(records[4].0 == ["#TOTAL", "3", "31.00", "0.15"])
    }

    /// Bytes from a sequence without contiguous storage go byte by byte; they must split the same
    /// as the buffer path that appends runs of plain bytes at once.
    @Test func aNonContiguousSequenceSplitsLikeABuffer() throws {
        var reader = CSVRecordReader()
        var records: [[[UInt8]]] = []
        try reader.feed(CSVRecordReaderTests.bankFile.utf8.lazy.map { $0 }) { records.append($0.fields) }
        try reader.finish { records.append($0.fields) }
        let buffered = try read(CSVRecordReaderTests.bankFile)
        #expect(records.map { $0.map { String(decoding: $0, as: UTF8.self) } } == buffered.map(\.0))
    }

    @Test func withQuotingOffAQuoteIsData() throws {
        var reader = CSVRecordReader(delimiter: UInt8(ascii: "|"), quote: nil)
        var records: [[String]] = []
        for chunk in ["a\"b|\"c", "\"|d\n"] {
            try reader.feed(Array(chunk.utf8)) { records.append($0.fields.map { String(decoding: $0, as: UTF8.self) }) }
        }
        #expect(records == [["a\"b", "\"c\"", "d"]])
    }

    @Test func otherDelimitersAndEmptyFields() throws {
        let records = try read("a\tb\t\n\t\tc\n", delimiter: "\t")
        #expect(records.map(\.0) == [["a", "b", ""], ["", "", "c"]])
    }

    @Test func brokenQuotingNamesLineAndColumn() throws {
        let unclosed = #expect(throws: CSVRecordReader.Failure.self) { try read("a,b\n1,\"open\n2,3\n") }
        #expect(unclosed?.line == 2)
        #expect(unclosed?.reason.contains("never closed") == true)
        let stray = #expect(throws: CSVRecordReader.Failure.self) { try read("a,b\n1,x\"y\n") }
        #expect(stray?.description == "line 2, column 4: a quote inside an unquoted field")
        // After a CRLF line end, columns count from 1 again.
        let crlf = #expect(throws: CSVRecordReader.Failure.self) { try read("a,b\r\n1,x\"y\r\n", chunk: 4) }
        #expect(crlf?.description == "line 2, column 4: a quote inside an unquoted field")
        let after = #expect(throws: CSVRecordReader.Failure.self) { try read("\"a\"b,c\n") }
        #expect(after?.line == 1 && after?.column == 4)
    }
}
