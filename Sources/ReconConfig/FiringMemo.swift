public import Foundation
import ReconCore

/// One firing of a schedule, as the scheduler enqueues it: its job's args and unique key filled.
public struct ScheduledFiring: Sendable, Equatable {
    public var schedule: String
    public var instant: Date
    public var args: String
    public var uniqueKey: String

    public init(schedule: String, instant: Date, args: String, uniqueKey: String) {
        self.schedule = schedule
        self.instant = instant
        self.args = args
        self.uniqueKey = uniqueKey
    }
}

/// The scheduler's dedupe, without a database: which firings a tick enqueues, and which it has
/// seen enqueued already.
///
/// Every tick looks at each schedule's firings within its catch-up window, `(now − catch_up,
/// now]`, and enqueues those this memo has not recorded, under their unique keys. The keys make
/// two coordinators, a restart, or firings missed while none ran end the same way: one job per
/// firing. The memo only saves asking the database again about firings already done.
public struct FiringMemo: Sendable {
    private struct Firing: Hashable {
        var schedule: String
        var instant: Date
    }

    private var done: Set<Firing> = []

    public init() {}

    /// How many firings are remembered.
    public var count: Int { done.count }

    /// The firings of `definition` within its catch-up window before `now` that are not recorded
    /// as enqueued, oldest first.
    public func due(_ definition: ScheduleDefinition, now: Date) -> [ScheduledFiring] {
        let windowStart = now.addingTimeInterval(-Double(definition.catchUpMilliseconds) / 1000)
        return definition.schedule.fires(between: windowStart, and: now)
            .filter { !done.contains(Firing(schedule: definition.name, instant: $0)) }
            .map { instant in
                let (args, uniqueKey) = definition.firing(at: instant)
                return ScheduledFiring(schedule: definition.name, instant: instant, args: args, uniqueKey: uniqueKey)
            }
    }

    /// Records `firing` as enqueued (or found enqueued under its unique key).
    public mutating func enqueued(_ firing: ScheduledFiring) {
        done.insert(Firing(schedule: firing.schedule, instant: firing.instant))
    }

    /// Forgets firings older than any window of `schedules` (and an hour more) at `now`: no tick
    /// looks at them again.
    public mutating func forget(before now: Date, schedules: [ScheduleDefinition]) {
        let longest = Double(schedules.map(\.catchUpMilliseconds).max() ?? 0) / 1000
        let horizon = now.addingTimeInterval(-longest - 3600)
        done = done.filter { $0.instant >= horizon }
    }
}
