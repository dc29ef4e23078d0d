import ReconMetrics
import ReconWorker

extension JobContext {
    /// Records the stage's time (`recon_day_stage_seconds{stage}`) once its commit lands: a run
    /// that fails or loses its lease is not a stage done.
    func timeDayStage(_ stage: String) {
        let started = self.started
        committed.add { ReconMetrics.dayStage(stage, ContinuousClock.now - started) }
    }
}
