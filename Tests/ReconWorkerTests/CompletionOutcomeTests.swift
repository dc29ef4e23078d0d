import ReconPostgres
import Testing

@testable import ReconWorker

/// How a completion's outcome is classified, without a database: which failures are committed
/// again, which jobs are retried and which are dead at once.
@Suite struct CompletionOutcomeTests {
    @Test(
        arguments: [
            ("40P01", true), ("40001", true), ("08006", true), ("57P01", true), ("23505", false), ("23514", false),
            ("25006", false), ("42601", false),
        ])
    func aServerErrorIsTransientByItsSQLState(state: String, transient: Bool) {
        let error = PGError(.serverError, "refused", sqlState: state, statement: "complete jobs")
        #expect(error.isTransient == transient)
        #expect(CompletionOutcome.transactionFailed(error).isTransient == transient)
        #expect(CompletionOutcome.writesFailed(error).isTransient == transient)
    }

    /// The SQLSTATE decides, not the words: a message that quotes "[40P01]" or "connection lost"
    /// is not a deadlock, and a lost socket is transient whatever it says.
    @Test func theCodeDecidesNotTheText() {
        let quoting = PGError(.serverError, "value [40P01] connection lost", sqlState: "23514")
        #expect(!quoting.isTransient)
        #expect(!CompletionOutcome.writesFailed(JobFailure("PostgreSQL server error [40P01]: deadlock")).isTransient)
        #expect(PGError(.connectionLost, "server closed the connection").isTransient)
        #expect(PGError(.connectionFailed, "no such socket").isTransient)
        #expect(!PGError(.decodingFailed, "not an int8").isTransient)
    }

    @Test func aPermanentFailureInTheWritesIsDeadAndTheRestAreRetried() throws {
        let permanent = try #require(
            CompletionOutcome.writesFailed(JobFailure("the bill contradicts its totals", retryable: false)).failure)
        #expect(!permanent.retryable)
        #expect(permanent.message.contains("the bill contradicts its totals"))

        let later = try #require(
            CompletionOutcome.writesFailed(JobFailure("slow down", retryAfter: .seconds(30))).failure)
        #expect(later.retryable && later.retryAfter == .seconds(30))

        let constraint = PGError(.serverError, "duplicate key", sqlState: "23505")
        #expect(CompletionOutcome.writesFailed(constraint).failure?.retryable == true)
        let deadlock = PGError(.serverError, "deadlock detected", sqlState: PGError.deadlockDetected)
        let failed = try #require(CompletionOutcome.transactionFailed(deadlock).failure)
        #expect(failed.retryable && failed.message.contains("[40P01]"))

        #expect(CompletionOutcome.completed.failure == nil)
        #expect(CompletionOutcome.leaseLost.failure == nil)
    }
}
