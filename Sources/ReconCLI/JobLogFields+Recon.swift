import ReconBillJobs
import ReconJobs
import ReconReconcile

extension JobLogFields {
    /// Every job kind's log fields, the same for coordinators and workers.
    static var recon: JobLogFields {
        var fields = JobLogFields()
        FetchBillHandler.addLogFields(to: &fields)
        // The day's jobs name their channel and day under the same keys as a bill fetch.
        for kind in [DayGraph.reconcile, DayGraph.finalize] {
            fields.register(kind: kind, argument: "channel", as: "bill.channel")
        }
        for kind in [
            DayGraph.runDay, DayGraph.reconcile, DayGraph.finalize, DayGraph.reconcileVirtual, DayGraph.settle,
        ] {
            fields.register(kind: kind, argument: "date", as: "bill.date")
        }
        return fields
    }
}
