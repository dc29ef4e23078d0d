import Foundation
import Logging
import Synchronization
import Testing

@testable import ReconLogging

@Suite struct LogLineTests {
    /// The redaction's byte search: anywhere in the line, multi-byte text too, and no false match.
    @Test func secretsAreFoundByTheirBytes() {
        #expect(ReconLogHandler.bytes(of: "token=s3cret-token-value;", contain: "s3cret-token-value"))
        #expect(ReconLogHandler.bytes(of: "s3cret-token-value", contain: "s3cret-token-value"))
        #expect(ReconLogHandler.bytes(of: "账单 支付宝密钥 abc", contain: "支付宝密钥"))
        #expect(!ReconLogHandler.bytes(of: "s3cret-token-valu", contain: "s3cret-token-value"))
        #expect(!ReconLogHandler.bytes(of: "", contain: "s3cret"))
        #expect(!ReconLogHandler.bytes(of: "S3CRET-token-value", contain: "s3cret-token-value"))
    }

    @Test func logfmtQuotesOnlyWhatNeedsIt() {
        let line = LogLine.logfmt([
            ("level", "info"), ("msg", "job completed"), ("job.id", "42"), ("empty", ""), ("eq", "a=b"),
            ("quote", #"say "hi""#), ("path", #"C:\bills"#), ("multi", "one\ntwo\tthree\r"), ("bell", "\u{7}"),
            ("unicode", "支付宝"),
        ])
        #expect(
            line
                == #"level=info msg="job completed" job.id=42 empty="" eq="a=b" quote="say \"hi\"" path="C:\\bills" "#
                + #"multi="one\ntwo\tthree\r" bell="\u0007" unicode=支付宝"#)
    }

    @Test func logfmtKeysCannotBreakThePairs() {
        #expect(LogLine.logfmt([("a key=\"x\"", "v"), ("", "w")]) == "a_key__x_=v _=w")
    }

    @Test func jsonEscapesAndParsesBack() throws {
        let fields: [(key: String, value: String)] = [
            ("msg", #"bill "2026-11-23" refused\ at line 3"#), ("error", "line one\nline two\u{0}\u{1F}\u{7F}"),
            ("bill.channel", "wechat-主"), ("k\"ey", "v"),
        ]
        let line = LogLine.json(fields)
        #expect(!line.contains("\n"))
        #expect(line.hasPrefix(#"{"msg":"bill \"2026-11-23\" refused\\ at line 3","error":"line one\nline two\u0000"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object.count == fields.count)
        for field in fields { #expect(object[field.key] == field.value) }
    }

    @Test func theHandlerWritesOneLineWithTheLoggersAndTheEventsMetadataAndBlanksKnownSecrets() throws {
        let lines = Mutex<[String]>([])
        var handler = ReconLogHandler(
            label: "recon.worker", format: .json, level: .info, redacting: ["s3cret-token-value", "abc"],
            output: { line in lines.withLock { $0.append(line) } })
        handler[metadataKey: "worker.id"] = "w1"
        var logger = Logger(label: "recon.worker") { _ in handler }
        logger[metadataKey: "job.id"] = "7"
        logger.info("refused s3cret-token-value abc", metadata: ["bill.channel": "alipay", "job.kind": "fetch_bill"])
        logger.debug("below the level")
        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        #expect(written[0].hasSuffix("}\n") && written[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String])
        #expect(object["level"] == "info" && object["logger"] == "recon.worker")
        #expect(object["msg"] == "refused [redacted] abc", "secrets shorter than 6 bytes are not blanked")
        #expect(object["worker.id"] == "w1" && object["job.id"] == "7" && object["bill.channel"] == "alipay")
        #expect(object["job.kind"] == "fetch_bill")
        let ts = try #require(object["ts"])
        #expect(ts.count == 24 && ts.hasSuffix("Z"), "\(ts)")
    }

    @Test func logfmtFromTheHandlerStartsWithTimeLevelLoggerAndMessage() throws {
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "recon.coordinator") { label in
            ReconLogHandler(label: label, format: .logfmt, output: { line in lines.withLock { $0.append(line) } })
        }
        logger.warning("lease expired", metadata: ["job.attempt": "2", "job.id": "9"])
        let line = try #require(lines.withLock { $0.first })
        let pairs = line.dropLast().split(separator: " ", omittingEmptySubsequences: false)
        #expect(pairs.first?.hasPrefix("ts=") == true)
        #expect(
            line.hasSuffix(
                #" level=warning logger=recon.coordinator msg="lease expired" job.attempt=2 job.id=9"# + "\n"))
    }
}
