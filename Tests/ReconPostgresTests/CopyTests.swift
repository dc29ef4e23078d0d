import ReconPostgres
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast) struct CopyTests {
    /// The row the test writes as number `index`: awkward text every so often, NULLs, negatives.
    static func row(_ index: Int) -> (id: Int64, amount: Int64, note: String?, day: PGDate) {
        let note: String? =
            switch index % 7 {
            case 0: nil
            case 1: "tab\there \\ back\\slash"
            case 2: "line\nbreak\r\nwindows"
            case 3: "商户订单号-\(index)"
            case 4: ""
            case 5: "\\N is not null"
            default: "plain-\(index)"
            }
        let day = PGDate(daysSince2000: Int32(9_000 + index % 400))
        return (Int64(index), Int64(index % 2 == 0 ? index * 37 : -index * 11), note, day)
    }

    /// Binary COPY: the same awkward text, NULLs of every type, negatives, and timestamps on both
    /// sides of PostgreSQL's 2000-01-01 epoch come back as written.
    @Test func binaryRowsRoundTripEveryType() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("copybin"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query(
            "CREATE TABLE lines (id int8 PRIMARY KEY, amount_fen int8, note text, day date, at timestamptz)")
        let count = 3_000
        @Sendable func at(_ index: Int) -> PGTimestamp? {
            index % 5 == 0
                ? nil : PGTimestamp(microsecondsSince1970: Int64(index - 1_500) * 987_654_321_123 + 946_684_800_000_000)
        }
        let loaded = try await pool.withConnection { connection in
            try connection.copyIn(
                "COPY lines (id, amount_fen, note, day, at) FROM STDIN \(PGBinaryCopyRow.copyOptions)"
            ) { writer in
                try PGBinaryCopyRow.header.withUnsafeBytes { try writer.write(raw: $0) }
                var row = PGBinaryCopyRow()
                for index in 0..<count {
                    let value = CopyTests.row(index)
                    row.reset()
                    row.append(value.id)
                    row.append(index % 11 == 0 ? nil : value.amount)
                    row.append(value.note)
                    row.append(index % 13 == 0 ? nil : value.day)
                    row.append(at(index))
                    row.end()
                    try writer.write(row)
                }
                try PGBinaryCopyRow.trailer.withUnsafeBytes { try writer.write(raw: $0) }
            }
        }
        #expect(loaded == Int64(count))
        let rows = try await pool.query("SELECT id, amount_fen, note, day, at FROM lines ORDER BY id")
        #expect(rows.rows.count == count)
        var wrong: [Int] = []
        for (index, row) in rows.rows.enumerated() {
            let expected = CopyTests.row(index)
            if try row.decode(Int64.self, at: 0) != expected.id
                || row.decode(Int64?.self, at: 1) != (index % 11 == 0 ? nil : expected.amount)
                || row.decode(String?.self, at: 2) != expected.note
                || row.decode(PGDate?.self, at: 3) != (index % 13 == 0 ? nil : expected.day)
                || row.decode(PGTimestamp?.self, at: 4) != at(index)
            {
                wrong.append(index)
            }
        }
        #expect(wrong.isEmpty, "rows that came back different: \(wrong.prefix(10))")
    }

    @Test func twoHundredThousandRowsInAndOutRowByRow() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("copy"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE lines (id int8 PRIMARY KEY, amount_fen int8, note text, day date)")
        let count = 200_000
        let loaded = try await pool.withConnection { connection in
            try connection.copyIn("COPY lines (id, amount_fen, note, day) FROM STDIN") { writer in
                var row = PGCopyRow()
                for index in 0..<count {
                    let value = CopyTests.row(index)
                    row.reset()
                    row.append(value.id)
                    row.append(value.amount)
                    row.append(value.note)
                    row.append(value.day)
                    row.end()
                    try writer.write(row)
                }
            }
        }
        #expect(loaded == Int64(count))

        let mismatches = try await pool.withConnection { connection -> [Int] in
            var index = 0
            var wrong: [Int] = []
            try connection.copyOut("COPY (SELECT id, amount_fen, note, day FROM lines ORDER BY id) TO STDOUT") {
                line in
                let fields = pgDecodeCopyRow(line)
                let expected = CopyTests.row(index)
                if fields.count != 4 || fields[0] != String(expected.id) || fields[1] != String(expected.amount)
                    || fields[2] != expected.note || fields[3] != expected.day.description
                {
                    wrong.append(index)
                }
                index += 1
            }
            if index != count { wrong.append(-index) }
            return wrong
        }
        #expect(mismatches.isEmpty, "first mismatching rows: \(mismatches.prefix(5))")
    }

    @Test func aThrowingProducerAbortsTheCopyAndLoadsNothing() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("copyabort"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE lines (id int8)")
        struct BadLine: Error {}
        await #expect(throws: BadLine.self) {
            try await pool.withConnection { connection in
                try connection.copyIn("COPY lines FROM STDIN", chunkSize: 16) { writer in
                    var row = PGCopyRow()
                    for index in 0..<1000 {
                        row.reset()
                        row.append(Int64(index))
                        row.end()
                        try writer.write(row)
                    }
                    throw BadLine()
                }
            }
        }
        #expect(try await pool.query("SELECT count(*) FROM lines").first?.decode(Int64.self, at: 0) == 0)
    }

    @Test func aRowTheServerRejectsNamesTheLine() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("copybad"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE lines (id int8)")
        let error = try await #require(throws: PGError.self) {
            try await pool.withConnection { connection in
                try connection.copyIn("COPY lines FROM STDIN", name: "stage bill") { writer in
                    var row = PGCopyRow()
                    row.append("not a number")
                    row.end()
                    try writer.write(row)
                }
            }
        }
        #expect(error.sqlState == "22P02")
        #expect(error.statement == "stage bill")
        #expect(try await pool.query("SELECT count(*) FROM lines").first?.decode(Int64.self, at: 0) == 0)
    }
}
