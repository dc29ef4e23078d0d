public import ReconCore
public import ReconPostgres

extension LocalDay {
    /// The same day as PostgreSQL's `date` (days since 2000-01-01).
    public var pgDate: PGDate {
        PGDate(daysSince2000: Int32(clamping: dayNumber - 10_957))
    }
}
