import ReconCore
import Testing

@testable import ReconConfig

/// A job file as operators write them: jobs as an array of tables, channels as nested tables.
let dailyJobFile = """
    # Recon: the daily schedule.
    version = 1

    [[job]]
    name = "fetch-alipay"
    cron = "30 9 * * *"
    time_zone = "Asia/Shanghai"
    kind = "fetch_bill"
    args = { channel = "alipay", shards = 8, dry_run = false }

    [[job]]
    name = "settle"
    cron = "0 11 * * *"   # after every channel is finalized
    time_zone = "Asia/Shanghai"
    kind = "settle"
    args = { after = ["alipay", "wechat"], report.format = "csv" }

    [channel.alipay]
    display_name = "支付宝"
    endpoint = 'https://openapi.alipay.com/gateway.do'
    channels_seen = [
        "alipay",   # the big one
        "wechat",
    ]
    sample_rate = 0.25

    [channel.alipay.retry]
    max_attempts = 20
    base = 1_000        # milliseconds
    cap = 0x36_EE80     # one hour

    """

@Suite struct TOMLParserTests {
    @Test func parsesARealisticJobFileWithValuesAndLines() throws {
        let root = try TOML.parse(dailyJobFile, file: "jobs/daily.toml")
        #expect(root.keys == ["version", "job", "channel"])
        #expect(root["version"] == TOMLNode(value: .integer(1), line: 2, column: 1))

        let jobs = try #require(root["job"]?.value.arrayValue)
        #expect(root["job"]?.line == 4)
        #expect(jobs.count == 2)
        #expect(jobs.map(\.line) == [4, 11])

        let fetch = try #require(jobs[0].value.tableValue)
        #expect(fetch.keys == ["name", "cron", "time_zone", "kind", "args"])
        #expect(fetch["cron"]?.value == .string("30 9 * * *"))
        #expect(fetch["cron"]?.line == 6)
        #expect(fetch["time_zone"]?.value.stringValue == "Asia/Shanghai")
        let fetchArgs = try #require(fetch["args"]?.value.tableValue)
        #expect(fetch["args"]?.line == 9)
        #expect(fetchArgs.keys == ["channel", "shards", "dry_run"])
        #expect(fetchArgs["shards"]?.value == .integer(8))
        #expect(fetchArgs["dry_run"]?.value == .bool(false))
        #expect(fetchArgs["shards"]?.line == 9)

        let settle = try #require(jobs[1].value.tableValue)
        #expect(settle["cron"]?.value.stringValue == "0 11 * * *")
        #expect(settle["cron"]?.line == 13)
        let settleArgs = try #require(settle["args"]?.value.tableValue)
        let after = try #require(settleArgs["after"]?.value.arrayValue)
        #expect(after.map(\.value) == [.string("alipay"), .string("wechat")])
        #expect(settleArgs["report"]?.value.tableValue?["format"]?.value == .string("csv"))

        let channels = try #require(root["channel"]?.value.tableValue)
        #expect(root["channel"]?.line == 18)
        let alipay = try #require(channels["alipay"]?.value.tableValue)
        #expect(channels["alipay"]?.line == 18)
        #expect(alipay["display_name"]?.value.stringValue == "支付宝")
        #expect(alipay["endpoint"]?.value.stringValue == "https://openapi.alipay.com/gateway.do")
        let seen = try #require(alipay["channels_seen"]?.value.arrayValue)
        #expect(seen.map(\.line) == [22, 23])
        #expect(alipay["sample_rate"]?.value == .float(0.25, text: "0.25"))
        #expect(alipay["sample_rate"]?.line == 25)

        let retry = try #require(alipay["retry"]?.value.tableValue)
        #expect(alipay["retry"]?.line == 27)
        #expect(retry["max_attempts"] == TOMLNode(value: .integer(20), line: 28, column: 1))
        #expect(retry["base"] == TOMLNode(value: .integer(1_000), line: 29, column: 1))
        #expect(retry["cap"] == TOMLNode(value: .integer(3_600_000), line: 30, column: 1))
    }

    @Test func basicStringEscapes() throws {
        let root = try TOML.parse(#"s = "q\" b\\ n\n t\t u\u00E9 U\U0001F600 b\b f\f r\r""#, file: "t.toml")
        #expect(root["s"]?.value == .string("q\" b\\ n\n t\t u\u{E9} U\u{1F600} b\u{8} f\u{C} r\r"))
    }

    @Test func literalStringsKeepBackslashes() throws {
        let root = try TOML.parse(#"path = 'C:\Users\recon\n'"#, file: "t.toml")
        #expect(root["path"]?.value == .string(#"C:\Users\recon\n"#))
    }

    @Test func multiLineBasicStrings() throws {
        let text =
            "a = \"\"\"\nline one\n  line two\"\"\"\n"
            + "b = \"\"\"\\\n    The quick \\\n\n    fox.\"\"\"\n"
            + "c = \"\"\"\"quoted\"\"\"\"\n"
            + "d = \"\"\"x\"\"y\"\"\"\n"
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root["a"]?.value == .string("line one\n  line two"))
        #expect(root["b"]?.value == .string("The quick fox."))
        #expect(root["c"]?.value == .string("\"quoted\""))
        #expect(root["d"]?.value == .string("x\"\"y"))
        #expect(root["b"]?.line == 4)
        #expect(root["c"]?.line == 8)
    }

    @Test func multiLineLiteralStrings() throws {
        let text = "re = '''\nI [dw]on't need \\d{2} apples\n'''\nq = ''''one quote''''\nnext = 1\n"
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root["re"]?.value == .string("I [dw]on't need \\d{2} apples\n"))
        #expect(root["q"]?.value == .string("'one quote'"))
        #expect(root["next"]?.line == 5)
    }

    @Test func integersInEveryForm() throws {
        let text = """
            a = 0
            b = +17
            c = -17
            d = 1_000_000
            e = 9223372036854775807
            f = -9223372036854775808
            g = 0xDEAD_beef
            h = 0o755
            i = 0b1101
            j = -0
            """
        let root = try TOML.parse(text, file: "t.toml")
        let values = root.entries.map(\.node.value)
        #expect(
            values == [
                .integer(0), .integer(17), .integer(-17), .integer(1_000_000), .integer(.max), .integer(.min),
                .integer(0xDEAD_BEEF), .integer(0o755), .integer(0b1101), .integer(0),
            ])
    }

    @Test func floatsKeepTheirTextAndValue() throws {
        let text = """
            a = 3.14
            b = -0.5e-3
            c = 1e6
            d = 6.626_070e-34
            e = +inf
            f = -inf
            g = 0.0
            """
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root["a"]?.value == .float(3.14, text: "3.14"))
        #expect(root["b"]?.value == .float(-0.0005, text: "-0.5e-3"))
        #expect(root["c"]?.value == .float(1e6, text: "1e6"))
        #expect(root["d"]?.value == .float(6.626070e-34, text: "6.626_070e-34"))
        #expect(root["e"]?.value == .float(.infinity, text: "+inf"))
        #expect(root["f"]?.value == .float(-.infinity, text: "-inf"))
        #expect(root["g"]?.value == .float(0, text: "0.0"))
        let nan = try TOML.parse("n = nan", file: "t.toml")
        guard case .float(let value, let written)? = nan["n"]?.value else {
            Issue.record("nan did not parse as a float")
            return
        }
        #expect(value.isNaN && written == "nan")
    }

    @Test func keysBareQuotedAndDotted() throws {
        let text = """
            bare-key_1 = 1
            "quoted key" = 2
            'literal "key"' = 3
            site."google.com".up = true
            fruit . color = "red"
            fruit.shape = "round"
            "" = "empty"
            1234 = "digits"
            """
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root.keys == ["bare-key_1", "quoted key", "literal \"key\"", "site", "fruit", "", "1234"])
        #expect(root["site"]?.value.tableValue?["google.com"]?.value.tableValue?["up"]?.value == .bool(true))
        let fruit = try #require(root["fruit"]?.value.tableValue)
        #expect(fruit.keys == ["color", "shape"])
        #expect(root["fruit"]?.line == 5)
        #expect(fruit["shape"]?.line == 6)
    }

    @Test func tablesSubTablesAndImplicitParents() throws {
        let text = """
            [a.b.c]
            x = 1
            [a]
            y = 2
            [a.b.d]
            z = 3
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """
        let root = try TOML.parse(text, file: "t.toml")
        let a = try #require(root["a"]?.value.tableValue)
        #expect(root["a"]?.line == 3)  // its own header, not the implicit mention on line 1
        #expect(a.keys == ["b", "y"])
        let b = try #require(a["b"]?.value.tableValue)
        #expect(b.keys == ["c", "d"])
        #expect(b["d"]?.value.tableValue?["z"]?.value == .integer(3))
        let apple = try #require(root["fruit"]?.value.tableValue?["apple"]?.value.tableValue)
        #expect(apple.keys == ["color", "texture"])
    }

    @Test func arraysOfTablesWithSubTables() throws {
        let text = """
            [[fruits]]
            name = "apple"
            [fruits.physical]
            color = "red"
            [[fruits.varieties]]
            name = "red delicious"
            [[fruits.varieties]]
            name = "granny smith"
            [[fruits]]
            name = "banana"
            [[fruits.varieties]]
            name = "plantain"
            """
        let root = try TOML.parse(text, file: "t.toml")
        let fruits = try #require(root["fruits"]?.value.arrayValue)
        #expect(fruits.map(\.line) == [1, 9])
        let apple = try #require(fruits[0].value.tableValue)
        #expect(apple["physical"]?.value.tableValue?["color"]?.value == .string("red"))
        let varieties = try #require(apple["varieties"]?.value.arrayValue)
        #expect(
            varieties.compactMap { $0.value.tableValue?["name"]?.value.stringValue } == [
                "red delicious", "granny smith",
            ])
        let banana = try #require(fruits[1].value.tableValue)
        #expect(banana["varieties"]?.value.arrayValue?.count == 1)
    }

    @Test func arraysNestMixAndAllowCommentsAndTrailingCommas() throws {
        let text = """
            empty = []
            nested = [ [1, 2], ["a"], [] ]
            mixed = [1, "two", 3.0, true, { four = 4 }]
            spread = [
              1,  # one
              # a whole comment line
              2,
            ]
            inline = {}
            """
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root["empty"]?.value == .array([]))
        #expect(root["nested"]?.value.arrayValue?.count == 3)
        #expect(
            root["mixed"]?.value.arrayValue?.map(\.value.typeName) == [
                "integer", "string", "float", "boolean", "table",
            ])
        #expect(root["spread"]?.value.arrayValue?.map(\.line) == [5, 7])
        #expect(root["spread"]?.value.arrayValue?.map(\.value) == [.integer(1), .integer(2)])
        #expect(root["inline"]?.value == .table(TOMLTable()))
    }

    @Test func windowsLineEndingsCommentsAndAByteOrderMark() throws {
        let text = "\u{FEFF}# header\r\na = 1 # trailing\r\n\r\n[t]\r\nb = \"\"\"x\r\ny\"\"\"\r\n"
        let root = try TOML.parse(text, file: "t.toml")
        #expect(root["a"] == TOMLNode(value: .integer(1), line: 2, column: 1))
        #expect(root["t"]?.value.tableValue?["b"]?.value == .string("x\ny"))
        #expect(root["t"]?.line == 4)
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let root = try TOML.parse("t = { \"名前\" = \"x\", b = 1 }", file: "t.toml")
        let table = try #require(root["t"]?.value.tableValue)
        #expect(table["名前"]?.column == 7)
        #expect(table["b"]?.column == 19)
        // Bare keys are ASCII only in TOML 1.0; the error column still counts characters.
        #expect(parseError("\"名\" = 1\n名 = 2\n")?.description == "jobs/daily.toml:2:1: expected a key, found `名`")
        #expect(parseError("\"名\" = 1 x\n")?.column == 9)
    }
}
