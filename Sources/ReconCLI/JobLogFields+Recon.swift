import ReconBillJobs
import ReconJobs

extension JobLogFields {
    /// Every job kind's log fields, the same for coordinators and workers.
    static var recon: JobLogFields {
        var fields = JobLogFields()
        FetchBillHandler.addLogFields(to: &fields)
        return fields
    }
}
