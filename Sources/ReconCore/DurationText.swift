/// Durations as people write them in job files: `500ms`, `90s`, `10m`, `36h`, `2d`.
public enum DurationText {
    /// Milliseconds, or nil when the text is not a whole number followed by one of the units.
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(suffix: String, factor: Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            // "10ms" also ends in "s": only take a unit whose number part is all digits.
            guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber),
                let value = Int64(number)
            else { continue }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : product
        }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds clamped to [0, 366 days], what the coordinator accepts for a delay: a
    /// negative or huge Duration must not trap or overflow.
    public var clampedDelayMilliseconds: Int64 {
        let seconds = min(max(components.seconds, 0), 366 * 86_400)
        let fraction =
            seconds == 366 * 86_400 || components.seconds < 0 ? 0 : components.attoseconds / 1_000_000_000_000_000
        return seconds * 1000 + max(0, fraction)
    }
}
