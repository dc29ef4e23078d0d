public import ReconCore

/// The instants a bill's lines are expected in: the bill day in the channel's zone, widened by the
/// channel's tolerance. A line outside is staged with a flag, not refused (CHANNELS.md §6, Time).
struct DayWindow: Sendable {
    /// Microseconds since 1970, start inclusive, end exclusive.
    let start: Int64
    let end: Int64
    let text: String

    /// `[day 00:00 − before, day+1 00:00 + after)` in a zone `offsetSeconds` east of UTC.
    init(day: LocalDay, offsetSeconds: Int64, before: Int64 = 0, after: Int64 = 0) {
        let midnight = Int64(day.dayNumber) * 86_400 - offsetSeconds
        start = (midnight - before) * 1_000_000
        end = (midnight + 86_400 + after) * 1_000_000
        if before == 0 && after == 0 {
            text = day.description
        } else {
            let local = midnight + offsetSeconds
            text = "\(LocalTime.text(local - before)) – \(LocalTime.text(local + 86_400 + after))"
        }
    }

    /// "完成时间 2026-11-24 00:00:01 is outside 2026-11-23", or nil inside the window.
    /// `what` is only worded for a line outside the window.
    func flag(_ microseconds: Int64, _ what: @autoclosure () -> String) -> String? {
        (start..<end).contains(microseconds) ? nil : "\(what())\(Self.outside)\(text)"
    }

    /// The words that mark a flag as this window's (`BillLine.isOutsideTheDay` looks for them).
    static let outside = " is outside "
}
