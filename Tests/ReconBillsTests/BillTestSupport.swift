import ReconCalendar
import ReconCore
import Testing

@testable import ReconBills

/// Feeds `bytes` to the parser `chunk` bytes at a time and collects what it emits.
func parseAll<Parser: BillParser>(_ parser: inout Parser, _ bytes: [UInt8], chunk: Int = 1 << 20) throws(BillError)
    -> [BillLine]
{
    var lines: [BillLine] = []
    var start = 0
    while start < bytes.count {
        let end = min(start + chunk, bytes.count)
        try parser.feed(bytes[start..<end]) { lines.append($0) }
        start = end
    }
    try parser.finish { lines.append($0) }
    return lines
}

/// The `BillError` a parse throws, or nil (and a recorded issue) if it throws nothing.
func billError(_ body: () throws(BillError) -> Void) -> BillError? {
    do throws(BillError) {
        try body()
        Issue.record("expected a BillError")
        return nil
    } catch {
        return error
    }
}

let testDay = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 23))
