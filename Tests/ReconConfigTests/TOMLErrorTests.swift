import ReconCore
import Testing

@testable import ReconConfig

/// The error `TOML.parse` throws for `text`, or nil (and a recorded issue) if it parsed.
func parseError(_ text: String, file: String = "jobs/daily.toml") -> TOMLError? {
    do {
        _ = try TOML.parse(text, file: file)
        Issue.record("expected a parse error for:\n\(text)")
        return nil
    } catch {
        return error
    }
}

@Suite struct TOMLErrorTests {
    @Test func descriptionIsFileLineColumnMessage() {
        let error = TOMLError(file: "jobs/daily.toml", line: 12, column: 5, message: "something")
        #expect(error.description == "jobs/daily.toml:12:5: something")
        let noColumn = TOMLError(file: "jobs/daily.toml", line: 3, column: nil, message: "whole line")
        #expect(noColumn.description == "jobs/daily.toml:3: whole line")
    }

    @Test func unterminatedStringPointsAtItsStart() {
        let error = parseError("a = 1\n\nname = \"abc\nb = 2\n")
        #expect(error?.description == "jobs/daily.toml:3:8: unterminated string: the line ends before the closing `\"`")
        let atEnd = parseError("a = 1\nname = \"abc")
        #expect(atEnd?.line == 2)
        #expect(atEnd?.message == "unterminated string: missing closing `\"`")
        let multi = parseError("a = 1\ns = \"\"\"\nnever closed\n")
        #expect(multi?.line == 2)
        #expect(multi?.message == "unterminated multi-line string: missing closing `\"\"\"`")
        let literal = parseError("s = 'abc\n")
        #expect(literal?.message == "unterminated literal string: the line ends before the closing `'`")
    }

    @Test func duplicateKeysNameBothLines() {
        let error = parseError("[a]\nname = 1\nother = 2\n\nname = 3\n")
        #expect(error?.line == 5)
        #expect(error?.message == "duplicate key `a.name` (first defined at line 2)")
        let dotted = parseError("x.y = 1\nx.y = 2\n")
        #expect(dotted?.line == 2)
        #expect(dotted?.message == "duplicate key `x.y` (first defined at line 1)")
        let inline = parseError("t = { a = 1, a = 2 }")
        #expect(inline?.message == "duplicate key `t.a` (first defined at line 1)")
        #expect(inline?.column == 14)
        let tableThenKey = parseError("[a.b]\nx = 1\n[a]\nb = 2\n")
        #expect(tableThenKey?.line == 4)
        #expect(tableThenKey?.message == "duplicate key `a.b` (first defined at line 1)")
    }

    @Test func tablesDefinedTwiceNameBothLines() {
        let error = parseError("[channel.alipay]\nurl = \"x\"\n\n[channel.alipay]\n")
        #expect(error?.line == 4)
        #expect(error?.message == "table `channel.alipay` is defined twice (first at line 1)")
        let implicitThenTwice = parseError("[a.b]\n[a]\n[a]\n")
        #expect(implicitThenTwice?.line == 3)
        #expect(implicitThenTwice?.message == "table `a` is defined twice (first at line 2)")
        let dottedThenHeader = parseError("[fruit]\napple.color = \"red\"\n[fruit.apple]\n")
        #expect(dottedThenHeader?.line == 3)
        #expect(dottedThenHeader?.message == "table `fruit.apple` was already defined by dotted keys at line 2")
        let headerThenDotted = parseError("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n")
        #expect(headerThenDotted?.line == 4)
        #expect(headerThenDotted?.message.hasPrefix("cannot add to table `a.b`") == true)
    }

    @Test func tablesAndArraysOfTablesDoNotMix() {
        let tableThenArray = parseError("[job]\n[[job]]\n")
        #expect(tableThenArray?.line == 2)
        #expect(tableThenArray?.message == "`job` is already a table (line 1); it cannot also be an array of tables")
        let arrayThenTable = parseError("[[job]]\n[job]\n")
        #expect(arrayThenTable?.message == "`job` is an array of tables (first at line 1); write [[job]] to add to it")
        let staticArray = parseError("job = []\n[[job]]\n")
        #expect(staticArray?.message == "cannot append to `job` with [[job]]: it is an array value (line 1)")
        let inline = parseError("a = { b = 1 }\n[a.c]\n")
        #expect(inline?.line == 2)
        #expect(
            inline?.message == "cannot add to inline table `a` (line 1): inline tables are complete once written")
        let inlineDotted = parseError("a = { b = 1 }\na.c = 2\n")
        #expect(inlineDotted?.line == 2)
        let scalar = parseError("a = 1\n[a.b]\n")
        #expect(scalar?.message == "cannot use `a` as a table: it is already an integer (line 1)")
    }

    @Test func badEscapes() {
        let error = parseError("a = 1\ns = \"tab\\qx\"\n")
        #expect(error?.line == 2)
        #expect(error?.column == 9)
        #expect(error?.message.hasPrefix("bad escape `\\q`; allowed: \\b \\t \\n") == true)
        #expect(parseError(#"s = "\u12G4""#)?.message == "bad escape: `\\u` needs 4 hex digits")
        #expect(parseError(#"s = "\UD800""#)?.message == "bad escape: `\\U` needs 8 hex digits")
        #expect(parseError(#"s = "\uD800""#)?.message == "bad escape: U+D800 is not a Unicode scalar value")
        #expect(parseError(#"s = "\x41""#)?.message.hasPrefix("bad escape `\\x`") == true)
        #expect(
            parseError("s = \"\"\"a \\ b\"\"\"")?.message
                == "bad escape: `\\` followed by a space must end the line")
    }

    @Test(arguments: [
        ("n = 1__000", "invalid number `1__000`"),
        ("n = _1", "invalid value `_1`; strings must be in quotes"),
        ("n = 1_", "invalid number `1_`"),
        ("n = 012", "invalid number `012`: leading zeros are not allowed"),
        ("n = 9223372036854775808", "integer `9223372036854775808` does not fit in 64 bits"),
        ("n = -9223372036854775809", "integer `-9223372036854775809` does not fit in 64 bits"),
        ("n = 0xFFFF_FFFF_FFFF_FFFF", "integer `0xFFFF_FFFF_FFFF_FFFF` does not fit in 64 bits"),
        ("n = 0x", "invalid number `0x`"),
        ("n = 0xG1", "invalid number `0xG1`"),
        ("n = -0x1", "invalid number `-0x1`: hex, octal and binary integers take no sign"),
        ("n = 0o8", "invalid number `0o8`"),
        ("n = 1.", "invalid number `1.`"),
        ("n = .5", "invalid number `.5`"),
        ("n = 1e", "invalid number `1e`"),
        ("n = 1.2.3", "invalid number `1.2.3`"),
        ("n = 01.5", "invalid number `01.5`: leading zeros are not allowed"),
        ("n = +-1", "invalid number `+-1`"),
        ("n = 12abc", "invalid number `12abc`"),
        ("n = yes", "invalid value `yes`; strings must be in quotes"),
        ("n = TRUE", "invalid value `TRUE`; strings must be in quotes"),
        ("n = 1979-05-27T07:32:00Z", "date-time values are not supported; write the time as a string"),
        ("n = 1979-05-27", "date-time values are not supported; write the time as a string"),
        ("n = 07:32:00", "date-time values are not supported; write the time as a string"),
    ])
    func badValuesPointAtTheValue(text: String, message: String) {
        let error = parseError("ok = 1\n" + text + "\n")
        #expect(error?.message == message)
        #expect(error?.line == 2)
        #expect(error?.column == 5)
    }

    @Test func missingEqualsNamesTheKey() {
        let error = parseError("[job]\nname \"daily\"\n")
        #expect(error?.description == "jobs/daily.toml:2:6: expected `=` after key `job.name`, found `\"`")
        let atLineEnd = parseError("name\n")
        #expect(atLineEnd?.message == "expected `=` after key `name`, found the end of the line")
        let noValue = parseError("name =\n")
        #expect(noValue?.message == "expected a value for `name`, found the end of the line")
    }

    @Test func structuralErrors() {
        #expect(parseError("a = 1 2\n")?.message == "expected a newline after the value, found `2`")
        #expect(parseError("[a] b = 1\n")?.message == "expected a newline after the table header, found `b`")
        #expect(parseError("[a\n")?.message == "expected `]` to close the table header, found the end of the line")
        #expect(
            parseError("[[a]\n")?.message
                == "expected `]]` to close the array-of-tables header, found the end of the line")
        #expect(parseError("= 1\n")?.message == "expected a key, found `=`")
        #expect(parseError("a.  = 1\n")?.message == "expected a key, found `=`")
        let array = parseError("a = 1\nlist = [\n  1,\n  2\n")
        #expect(array?.line == 2)
        #expect(array?.message == "unterminated array: missing `]`")
        #expect(parseError("list = [1 2]\n")?.message == "expected `,` or `]` in the array `list`, found `2`")
        #expect(parseError("list = [1,,2]\n")?.message == "expected a value for `list[1]`, found `,`")
        #expect(parseError("t = { a = 1, }\n")?.message == "a trailing comma is not allowed in an inline table")
        #expect(
            parseError("t = { a = 1,\n b = 2 }\n")?.message
                == "an inline table must be on one line; use a [table] for more")
        #expect(parseError("t = { a = 1\n")?.message == "an inline table must be on one line; use a [table] for more")
        #expect(parseError("t = { a = 1")?.message == "unterminated inline table: missing `}`")
        #expect(
            parseError("a = \"x\" # ok\nb = 1\rc = 2\n")?.message
                == "a carriage return must be followed by a line feed")
        #expect(
            parseError("k = \"\"\"a\"\"\"\"\"\"\n")?.message
                == "too many quotes in a row: at most two may come before the closing three")
        #expect(parseError("\"\"\"k\"\"\" = 1\n")?.message == "a key cannot be a multi-line string")
    }

    @Test func controlCharactersMustBeEscaped() {
        let error = parseError("s = \"a\u{1}b\"\n")
        #expect(error?.message == "control character U+0001 must be escaped in a string")
        #expect(error?.column == 7)
        #expect(parseError("# bell \u{7}\n")?.message == "control character U+0007 is not allowed in a comment")
        #expect(parseError("s = 'a\u{7F}'\n")?.message == "control character U+007F is not allowed in a literal string")
    }

    @Test func hostileNestingIsAnErrorNotACrash() {
        let deepArray = "a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(parseError(deepArray)?.message == "arrays and inline tables nest more than 64 deep")
        let deepTable = "a = " + String(repeating: "{b=", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(parseError(deepTable)?.message == "arrays and inline tables nest more than 64 deep")
        let longKey = "[" + Array(repeating: "k", count: 10_000).joined(separator: ".") + "]"
        #expect(parseError(longKey)?.message == "key has more than 64 parts")
    }
}
