public import Foundation

/// Wall times of a time zone and the instants they name. The zone is asked at each instant: its
/// offset changes with daylight saving and with its rules, so no offset is ever kept.
public enum ZoneTime {
    /// The zone's offset from UTC, in seconds, at `instant` (seconds since 1970).
    public static func offsetSeconds(_ zone: TimeZone, at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// Every instant whose wall time in `zone` is `wallSeconds` (the wall time written as if it
    /// were UTC seconds since 1970), earliest first: usually one, two in a fall-back fold, none in
    /// a spring-forward gap.
    ///
    /// An instant t has wall time w when t + offset(t) = w. The candidates for offset(t) are the
    /// zone's offsets around w; a day either side catches both sides of any transition.
    public static func instants(ofWallSeconds wallSeconds: Int64, in zone: TimeZone) -> [Int64] {
        var tried: [Int64] = []
        var found: [Int64] = []
        for probe in [wallSeconds - 86_400, wallSeconds, wallSeconds + 86_400] {
            let offset = offsetSeconds(zone, at: probe)
            guard !tried.contains(offset) else { continue }
            tried.append(offset)
            let instant = wallSeconds - offset
            if offsetSeconds(zone, at: instant) == offset, !found.contains(instant) { found.append(instant) }
        }
        return found.sorted()
    }

    /// The one instant a wall time stands for, where one is needed (a deadline): the earlier in a
    /// fold, and in a gap the wall time read with the offset before it (02:30 in a skipped hour
    /// is 03:30 after it).
    public static func instant(ofWallSeconds wallSeconds: Int64, in zone: TimeZone) -> Int64 {
        instants(ofWallSeconds: wallSeconds, in: zone).first
            ?? wallSeconds - offsetSeconds(zone, at: wallSeconds - 86_400)
    }
}
