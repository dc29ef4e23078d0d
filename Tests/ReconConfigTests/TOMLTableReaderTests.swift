import ReconCore
import Testing

@testable import ReconConfig

/// The `TOMLError` `body` throws, or nil (and a recorded issue) if it throws nothing or
/// something else. (Closures do not infer typed throws, hence the cast.)
func readerError(_ body: () throws -> Void) -> TOMLError? {
    do {
        try body()
        Issue.record("expected a reader error")
        return nil
    } catch let error as TOMLError {
        return error
    } catch {
        Issue.record("expected a TOMLError, got \(error)")
        return nil
    }
}

@Suite struct TOMLTableReaderTests {
    @Test func readsTheJobFileAndAcceptsItWhenEveryKeyIsRead() throws {
        let root = try TOMLTableReader(parsing: dailyJobFile, file: "jobs/daily.toml")
        #expect(try root.int("version", in: 1...1) == 1)

        let jobs = try root.tableArray("job")
        #expect(jobs.map(\.path) == ["job[0]", "job[1]"])
        #expect(jobs.map(\.line) == [4, 11])
        for job in jobs {
            _ = try job.string("name")
            _ = try job.string("cron")
            _ = try job.string("time_zone")
            _ = try job.string("kind")
        }
        let fetchArgs = try jobs[0].table("args")
        #expect(try fetchArgs.string("channel") == "alipay")
        #expect(try fetchArgs.int("shards", in: 1...64) == 8)
        #expect(try fetchArgs.bool("dry_run") == false)
        #expect(try fetchArgs.optionalBool("verbose") == nil)
        let settleArgs = try jobs[1].table("args")
        #expect(try settleArgs.stringArray("after") == ["alipay", "wechat"])
        #expect(try settleArgs.table("report").string("format") == "csv")

        let alipay = try root.table("channel").table("alipay")
        #expect(alipay.path == "channel.alipay")
        #expect(try alipay.string("display_name") == "支付宝")
        #expect(try alipay.optionalString("endpoint") == "https://openapi.alipay.com/gateway.do")
        #expect(try alipay.optionalString("proxy") == nil)
        #expect(try alipay.array("channels_seen").count == 2)
        #expect(alipay.node("sample_rate")?.value.doubleValue == 0.25)
        let retry = try alipay.table("retry")
        let policy = RetryPolicy(
            maxAttempts: try retry.int("max_attempts", in: 1...100),
            baseMilliseconds: try retry.int64("base"),
            capMilliseconds: try retry.int64("cap"))
        #expect(policy == RetryPolicy.default)

        try root.finish()
    }

    @Test func unknownKeysAreReportedWithTheirLineAndFullPath() throws {
        let text = """
            [channel.alipay]
            url = "https://example.com"

            [channel.alipay.retry]
            max_attempts = 5
            max_atempts = 6
            """
        let root = try TOMLTableReader(parsing: text, file: "jobs/daily.toml")
        let alipay = try root.table("channel").table("alipay")
        _ = try alipay.string("url")
        let retry = try alipay.table("retry")
        _ = try retry.int("max_attempts")
        let error = readerError { try root.finish() }
        #expect(error?.description == "jobs/daily.toml:6:1: unknown key `channel.alipay.retry.max_atempts`")
        // The child reader on its own reports the same key.
        #expect(readerError { try retry.finish() }?.line == 6)
    }

    @Test func aTableAskedForTwiceIsOneReader() throws {
        let root = try TOMLTableReader(parsing: "[retry]\nbase = 1\ncap = 2\n", file: "f.toml")
        _ = try root.table("retry").int("base")
        _ = try root.table("retry").int("cap")
        #expect(try root.table("retry") === root.table("retry"))
        try root.finish()
    }

    @Test func unreadTablesAndSeveralUnknownKeysAreAllMentioned() throws {
        let text = """
            name = "x"
            colour = "red"
            [extra]
            a = 1
            [more]
            b = 2
            [yet_more]
            c = 3
            """
        let root = try TOMLTableReader(parsing: text, file: "f.toml")
        _ = try root.string("name")
        let error = readerError { try root.finish() }
        #expect(error?.line == 2)
        #expect(
            error?.message
                == "unknown key `colour`; also unknown: `extra` (line 3), `more` (line 5), `yet_more` (line 7)")
    }

    @Test func wrongTypesNameTheFullPathAndBothTypes() throws {
        let text = """
            [channel.alipay.retry]
            max_attempts = 5
            base = "1s"
            enabled = "yes"
            """
        let root = try TOMLTableReader(parsing: text, file: "jobs/daily.toml")
        let retry = try root.table("channel").table("alipay").table("retry")
        let error = readerError { _ = try retry.int64("base") }
        #expect(
            error?.description == "jobs/daily.toml:3:1: `channel.alipay.retry.base` must be an integer, found string")
        #expect(
            readerError { _ = try retry.bool("enabled") }?.message
                == "`channel.alipay.retry.enabled` must be a boolean, found string")
        #expect(
            readerError { _ = try retry.string("max_attempts") }?.message
                == "`channel.alipay.retry.max_attempts` must be a string, found integer")
        #expect(
            readerError { _ = try retry.table("base") }?.message
                == "`channel.alipay.retry.base` must be a table, found string")
        #expect(readerError { _ = try root.array("channel") }?.message == "`channel` must be an array, found table")
    }

    @Test func missingKeysPointAtTheirTable() throws {
        let text = "version = 1\n\n[channel.alipay]\nurl = \"x\"\n"
        let root = try TOMLTableReader(parsing: text, file: "jobs/daily.toml")
        let alipay = try root.table("channel").table("alipay")
        #expect(
            readerError { _ = try alipay.string("format") }?.description
                == "jobs/daily.toml:3:1: missing key `channel.alipay.format`")
        #expect(readerError { _ = try root.string("name") }?.description == "jobs/daily.toml:1:1: missing key `name`")
    }

    @Test func rangesAndElementTypesAreChecked() throws {
        let text = """
            shards = 0
            channels = ["alipay", 7]
            jobs = [{ name = "a" }, "b"]
            """
        let root = try TOMLTableReader(parsing: text, file: "f.toml")
        #expect(
            readerError { _ = try root.int("shards", in: 1...64) }?.message
                == "`shards` must be between 1 and 64, found 0")
        let element = readerError { _ = try root.stringArray("channels") }
        #expect(element?.message == "`channels[1]` must be a string, found integer")
        #expect(element?.column == 23)
        #expect(readerError { _ = try root.tableArray("jobs") }?.message == "`jobs[1]` must be a table, found string")
    }

    @Test func quotedKeysAreQuotedInPaths() throws {
        let root = try TOMLTableReader(parsing: "[channel.\"bank of x\"]\nurl = 1\n", file: "f.toml")
        let bank = try root.table("channel").table("bank of x")
        #expect(bank.path == "channel.\"bank of x\"")
        #expect(
            readerError { _ = try bank.string("url") }?.message
                == "`channel.\"bank of x\".url` must be a string, found integer")
    }

    @Test func callerChecksCanPointAtAKey() throws {
        let root = try TOMLTableReader(parsing: "a = 1\ncron = \"61 * * * *\"\n", file: "jobs/daily.toml")
        let cron = try root.string("cron")
        let error = root.error(at: "cron", "`\(root.keyPath("cron"))`: invalid schedule \"\(cron)\"")
        #expect(error.description == "jobs/daily.toml:2:1: `cron`: invalid schedule \"61 * * * *\"")
        #expect(root.contains("a") && !root.contains("b"))
        #expect(readerError { try root.finish() }?.message == "unknown key `a`")
    }

    @Test func syntaxErrorsComeThroughTheConvenienceInitializer() {
        let error = readerError { _ = try TOMLTableReader(parsing: "a = \n", file: "x.toml") }
        #expect(error?.file == "x.toml")
        #expect(error?.line == 1)
    }
}
