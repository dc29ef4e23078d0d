import Foundation
import Testing

/// An instant from an ISO 8601 UTC string such as `2026-11-23T15:00:00Z`.
func utc(_ text: String) throws -> Date {
    try Date.ISO8601FormatStyle().parse(text)
}

/// A zone the tests rely on; fails the test (rather than crashing) if the system lacks it.
func zone(_ identifier: String) throws -> TimeZone {
    try #require(TimeZone(identifier: identifier), "time zone \(identifier) is not installed")
}

/// Instants as ISO 8601 UTC strings, for readable comparisons.
func iso(_ dates: [Date]) -> [String] {
    dates.map { $0.formatted(Date.ISO8601FormatStyle()) }
}
