import Foundation
import ReconBlocking
import ReconPostgres
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast) struct TypeRoundTripTests {
    @Test func everyTypeRoundTripsIncludingNulls() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("types"), maxConnections: 2)
        defer { pool.close() }
        try await pool.query(
            """
            CREATE TABLE t (id int8 PRIMARY KEY, i8 int8, i4 int4, tx text, b bool, ts timestamptz, d date,
                            j jsonb, by bytea, n numeric)
            """)
        let stamp = PGTimestamp(microsecondsSince1970: 1_795_400_107_123_456)
        let day = try #require(PGDate(year: 2026, month: 11, day: 23))
        let json = PGJSON(#"{"channel": "alipay", "商户": "测试商品A", "n": 5}"#)
        let blob: [UInt8] = (0..<(10 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let text = "支付宝交易号\t(tab) \\ 'quote' \"dq\" \n newline, é, 🧾"
        try await pool.query(
            "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [Int64(1), Int64.min, Int32.max, text, true, stamp, day, json, blob, PGNumeric("-123456789012.3456")])
        let none: [any PGEncodable] = [
            Int64(2), Int64?.none, Int32?.none, String?.none, Bool?.none, PGTimestamp?.none, PGDate?.none,
            PGJSON?.none, [UInt8]?.none, PGNumeric?.none,
        ]
        try await pool.query("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", none)

        let rows = try await pool.query("SELECT * FROM t ORDER BY id").rows
        #expect(rows.count == 2)
        let full = rows[0]
        #expect(try full.decode(Int64.self, named: "i8") == Int64.min)
        #expect(try full.decode(Int32.self, named: "i4") == Int32.max)
        #expect(try full.decode(String.self, named: "tx") == text)
        #expect(try full.decode(Bool.self, named: "b") == true)
        #expect(try full.decode(PGTimestamp.self, named: "ts") == stamp)
        #expect(try full.decode(PGDate.self, named: "d") == day)
        #expect(try full.decode(PGDate.self, named: "d").description == "2026-11-23")
        // jsonb normalizes spacing; compare through the server's own text form.
        let jsonText = try await pool.query("SELECT j::text FROM t WHERE id = 1").first?.decode(String.self, at: 0)
        #expect(try full.decode(PGJSON.self, named: "j").text == jsonText)
        #expect(jsonText?.contains("测试商品A") == true)
        #expect(try full.decode([UInt8].self, named: "by") == blob)
        #expect(try full.decode(PGNumeric.self, named: "n").text == "-123456789012.3456")

        let empty = rows[1]
        #expect(try empty.decode(Int64?.self, named: "i8") == nil)
        #expect(try empty.decode(Int32?.self, named: "i4") == nil)
        #expect(try empty.decode(String?.self, named: "tx") == nil)
        #expect(try empty.decode(Bool?.self, named: "b") == nil)
        #expect(try empty.decode(PGTimestamp?.self, named: "ts") == nil)
        #expect(try empty.decode(PGDate?.self, named: "d") == nil)
        #expect(try empty.decode(PGJSON?.self, named: "j") == nil)
        #expect(try empty.decode([UInt8]?.self, named: "by") == nil)
        #expect(try empty.decode(PGNumeric?.self, named: "n") == nil)
    }

    @Test func numericDecodesExactlyAsTheServerPrintsIt() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("numeric"), maxConnections: 1)
        defer { pool.close() }
        let values = [
            "0", "0.00", "1", "-1", "12.30", "-0.01", "0.0001", "0.00000001", "10000", "99999999.99",
            "123456789.000000001", "-98765432109876543210.0123456789", "1e-20", "NaN", "100000000", "0.5000",
        ]
        for value in values {
            let row = try #require(
                try await pool.query("SELECT $1::numeric, $1::numeric::text", [value]).first)
            #expect(try row.decode(PGNumeric.self, at: 0).text == row.decode(String.self, at: 1), "value \(value)")
        }
    }

    @Test func emptyByteaIsNotNull() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("bytea"), maxConnections: 1)
        defer { pool.close() }
        let row = try #require(try await pool.query("SELECT $1::bytea IS NULL, length($1::bytea)", [[UInt8]()]).first)
        #expect(try row.decode(Bool.self, at: 0) == false)
        #expect(try row.decode(Int32.self, at: 1) == 0)
    }

    @Test func nullIntoANonOptionalNamesTheColumn() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("nulls"), maxConnections: 1)
        defer { pool.close() }
        let row = try #require(try await pool.query("SELECT NULL::int8 AS amount_fen", name: "read amount").first)
        let error = try #require(throws: PGError.self) { try row.decode(Int64.self, at: 0) }
        #expect(error.code == .decodingFailed)
        #expect(error.message.contains("amount_fen"))
        #expect(error.statement == "read amount")
    }

    @Test func datesAndTimestampsConvertOnTheCalendar() throws {
        #expect(PGDate("2026-02-29") == nil)
        #expect(PGDate("2024-02-29")?.description == "2024-02-29")
        #expect(PGDate(year: 2000, month: 1, day: 1)?.daysSince2000 == 0)
        #expect(PGDate(year: 1999, month: 12, day: 31)?.daysSince2000 == -1)
        #expect(PGDate("2026-11-23")?.adding(days: 8).description == "2026-12-01")
        #expect(PGTimestamp(microsecondsSince1970: 0).description == "1970-01-01T00:00:00.000000Z")
        #expect(PGTimestamp(microsecondsSince1970: -1).description == "1969-12-31T23:59:59.999999Z")
        #expect(PGTimestamp(microsecondsSince1970: 1_795_400_107_000_001).description == "2026-11-23T02:15:07.000001Z")
    }
}
