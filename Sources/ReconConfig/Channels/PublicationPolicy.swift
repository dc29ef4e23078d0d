public import ReconCore

/// What a fetch does about a bill the channel has not published yet (CHANNELS.md §5): before
/// `ready_after` it waits until then, after it asks again every `poll_interval`, and once the
/// `deadline` has passed it gives up with the alert's words. A fetch that has asked only a few
/// times when the deadline is behind it (a past day fetched again) still asks up to `latePolls`
/// more times, a poll apart: one "not ready" answer must not kill it when the next might be the
/// bill. Decided from the clock and the fetch's count of asks alone.
public struct PublicationPolicy: Sendable, Equatable {
    /// The channel's name, for the message.
    public var channel: String
    public var day: LocalDay
    /// Microseconds since 1970: when the bill is normally out, and when it is late.
    public var ready: Int64
    public var deadline: Int64
    public var pollMicroseconds: Int64
    /// The deadline as a person reads it: "2026-11-24 14:00 Asia/Shanghai".
    public var deadlineText: String
    /// How many times past the deadline a fetch with few asks behind it asks again (`late_polls`).
    public var latePolls: Int

    public enum Decision: Sendable, Equatable {
        /// Ask again at this instant (microseconds since 1970); no attempt is used.
        case snooze(until: Int64)
        /// The deadline has passed: the job is dead with this message.
        case dead(String)
    }

    public init(
        channel: String, day: LocalDay, ready: Int64, deadline: Int64, pollMicroseconds: Int64, deadlineText: String,
        latePolls: Int = 3
    ) {
        self.channel = channel
        self.day = day
        self.ready = ready
        self.deadline = deadline
        self.pollMicroseconds = pollMicroseconds
        self.deadlineText = deadlineText
        self.latePolls = latePolls
    }

    /// At `now` (microseconds since 1970), with `reason` the channel's words for "not yet", after
    /// `asks` asks by this fetch, this one included (nil: not counted, no late asks): the ready
    /// time if it is still ahead, else one poll interval on, never past the deadline; past it, one
    /// poll on while the fetch has asked at most `latePolls` times, else dead.
    public func decide(now: Int64, reason: String, asks: Int? = nil) -> Decision {
        guard now < deadline else {
            if let asks, asks <= latePolls { return .snooze(until: now + pollMicroseconds) }
            return .dead(
                "bill for \(day) not published by \(deadlineText), \(Self.agoText(now - deadline)) "
                    + "(\(channel): \(reason))")
        }
        return .snooze(until: min(deadline, now < ready ? ready : now + pollMicroseconds))
    }

    /// "8 days 3 hours ago", "2 hours 5 minutes ago", "4 minutes ago", "under a minute ago".
    static func agoText(_ microseconds: Int64) -> String {
        let minutes = max(0, microseconds) / 60_000_000
        let (days, hours, rest) = (minutes / 1440, minutes / 60 % 24, minutes % 60)
        func count(_ value: Int64, _ unit: String) -> String { "\(value) \(unit)\(value == 1 ? "" : "s")" }
        let parts =
            days > 0
            ? [count(days, "day")] + (hours > 0 ? [count(hours, "hour")] : [])
            : hours > 0 ? [count(hours, "hour")] + (rest > 0 ? [count(rest, "minute")] : []) : [count(rest, "minute")]
        return minutes == 0 ? "under a minute ago" : parts.joined(separator: " ") + " ago"
    }
}

extension ChannelDefinition {
    /// The policy for the bill of `day`, from `ready_after`, `deadline` and `poll_interval`.
    public func publicationPolicy(for day: LocalDay) -> PublicationPolicy {
        let (ready, deadline) = readyAndDeadline(for: day)
        return PublicationPolicy(
            channel: name, day: day, ready: ready, deadline: deadline,
            pollMicroseconds: pollIntervalMilliseconds * 1000, deadlineText: deadlineText(for: day),
            latePolls: latePolls)
    }
}
