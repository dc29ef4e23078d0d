public import ReconCore

/// What a fetch does about a bill the channel has not published yet (CHANNELS.md §5): before
/// `ready_after` it waits until then, after it asks again every `poll_interval`, and once the
/// `deadline` has passed it gives up with the alert's words. Decided from the clock alone.
public struct PublicationPolicy: Sendable, Equatable {
    /// The channel's name, for the message.
    public var channel: String
    public var day: LocalDay
    /// Microseconds since 1970: when the bill is normally out, and when it is late.
    public var ready: Int64
    public var deadline: Int64
    public var pollMicroseconds: Int64
    /// "HH:MM", as the job file writes the deadline.
    public var deadlineText: String

    public enum Decision: Sendable, Equatable {
        /// Ask again at this instant (microseconds since 1970); no attempt is used.
        case snooze(until: Int64)
        /// The deadline has passed: the job is dead with this message.
        case dead(String)
    }

    public init(
        channel: String, day: LocalDay, ready: Int64, deadline: Int64, pollMicroseconds: Int64, deadlineText: String
    ) {
        self.channel = channel
        self.day = day
        self.ready = ready
        self.deadline = deadline
        self.pollMicroseconds = pollMicroseconds
        self.deadlineText = deadlineText
    }

    /// At `now` (microseconds since 1970), with `reason` the channel's words for "not yet": the
    /// ready time if it is still ahead, else one poll interval on, never past the deadline.
    public func decide(now: Int64, reason: String) -> Decision {
        guard now < deadline else {
            return .dead("bill for \(day) not published by \(deadlineText) (\(channel): \(reason))")
        }
        return .snooze(until: min(deadline, now < ready ? ready : now + pollMicroseconds))
    }
}

extension ChannelDefinition {
    /// The policy for the bill of `day`, from `ready_after`, `deadline` and `poll_interval`.
    public func publicationPolicy(for day: LocalDay) -> PublicationPolicy {
        let (ready, deadline) = readyAndDeadline(for: day)
        return PublicationPolicy(
            channel: name, day: day, ready: ready, deadline: deadline,
            pollMicroseconds: pollIntervalMilliseconds * 1000, deadlineText: deadlineText)
    }
}
