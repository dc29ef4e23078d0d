public import ReconCore

/// The `#` lines around Alipay's CSV tables (CHANNELS.md §1.3, §1.4): account, date range,
/// start and end markers (found by substring, since the number of dashes varies) and footers.
package enum AlipayFrame {
    package static let detailsMarker = "业务明细列表"
    package static let summaryMarker = "业务汇总列表"
    package static let endWord = "结束"

    /// The texts inside `[…]`, in order: `#账号：[2088…]` → `["2088…"]`.
    package static func bracketed(_ text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
            result.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return result
    }

    /// `2026年11月23日 00:00:00` as local seconds (wall time read as UTC).
    package static func chineseDateTime(_ text: String) -> Int64? {
        let parts = text.split(whereSeparator: { "年月日 :".contains($0) })
        let numbers = parts.compactMap { part in part.allSatisfy(\.isASCII) ? Int(part) : nil }
        guard numbers.count == 6,
            let seconds = LocalTime.seconds(
                year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4],
                second: numbers[5]),
            chineseText(seconds) == text  // nothing more, nothing less than that exact form
        else { return nil }
        return seconds
    }

    /// `2026年11月23日 00:00:00` for local seconds (the writers' side).
    package static func chineseText(_ localSeconds: Int64) -> String {
        let parts = LocalTime.components(localSeconds)
        return "\(LocalTime.pad(parts.year, 4))年\(LocalTime.pad(parts.month, 2))月\(LocalTime.pad(parts.day, 2))日 "
            + "\(LocalTime.pad(parts.hour, 2)):\(LocalTime.pad(parts.minute, 2)):\(LocalTime.pad(parts.second, 2))"
    }

    /// A footer's count (`(\d+)笔`) and its first amount (`共(-?\d+\.\d{2})元`), in both the
    /// current and the older wording.
    package static func footer(_ text: String) -> (count: Int64, fen: Int64)? {
        guard let mark = text.firstIndex(of: "笔") else { return nil }
        let digits = text[..<mark].reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let count = Int64(String(digits.reversed())) else { return nil }
        guard let total = text[mark...].firstIndex(of: "共"), let end = text[total...].firstIndex(of: "元") else {
            return nil
        }
        guard let fen = try? Money.fen(fromExactlyTwoDecimals: text[text.index(after: total)..<end]) else { return nil }
        return (count, fen)
    }
}

/// What the `#` lines before the start marker said: the account and the date range, with the
/// lines they were on, checked against the configured account and the bill day.
package struct AlipayPreamble: Sendable {
    package var account: (text: String, line: Int)?
    package var range: (start: String, end: String, line: Int)?

    /// Takes in one `#` line of the preamble.
    mutating func read(_ text: String, line: Int) {
        if text.contains("账号") {
            if let value = AlipayFrame.bracketed(text).first { account = (value, line) }
        } else if text.contains("起始日期") {
            let values = AlipayFrame.bracketed(text)
            if values.count >= 2 { range = (values[0], values[1], line) }
        }
    }

    /// `#账号` must be `accountID`; the range must be D 00:00:00 to D+1 00:00:00.
    package func check(accountID: String, day: LocalDay, file: String, markerLine: Int) throws(BillError) {
        guard let account else {
            throw BillError(
                file: file, line: markerLine, column: "#账号", check: "identity",
                reason: "no #账号 line before the start marker")
        }
        guard account.text == accountID else {
            throw BillError(
                file: file, line: account.line, column: "#账号", check: "identity",
                reason: "#账号 \(account.text) is not the configured account \(accountID)")
        }
        guard let range else {
            throw BillError(
                file: file, line: markerLine, column: "#起始日期", check: "identity",
                reason: "no #起始日期 line before the start marker")
        }
        let start = Int64(day.dayNumber) * 86_400
        for (name, text, expected) in [("起始日期", range.start, start), ("终止日期", range.end, start + 86_400)]
        where AlipayFrame.chineseDateTime(text) != expected {
            throw BillError(
                file: file, line: range.line, column: name, check: "identity",
                reason: "\(name) is \(text), expected \(AlipayFrame.chineseText(expected)) for the bill of \(day)")
        }
    }
}
