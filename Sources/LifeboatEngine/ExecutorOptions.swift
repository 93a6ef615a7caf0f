import Foundation
import Synchronization

/// Settings of one executor invocation.
package struct ExecutorOptions: Sendable {
    /// Writes in flight at once.
    package var concurrency: Int = 8
    package var gates: GatePolicy = .pause
    /// Operations per checkpoint window, per slot of ``concurrency``: every window commits its intents before any of
    /// its writes is sent and its results after the last one returns. Larger windows mean fewer checkpoint transactions
    /// and fewer pauses while a window's last writes finish, and more look-ups after a crash.
    package var windowPerSlot = 16
    /// Plan a stage only when the run reaches it, and not at all when the checkpoint already holds its operations. Only
    /// for a resumed run whose runbook, parameters and snapshot are the ones it started with: every stage was validated
    /// and planned before its first write, and a plan of the same inputs is the same plan. A resume then reaches its first
    /// write without planning the whole runbook (seconds at 100,000 users).
    package var planStagesWhenReached = false
    /// Attempts for one operation across ambiguous failures and replication lag.
    package var maxAttempts: Int = 5
    package var crash: SimulatedCrash?
    /// When set, decides every gate the run reaches (interactive tabletop); ``gates`` is not used.
    package var gateDecider: (any GateDecider)?
    /// Where relative output paths (ID map exports) are resolved.
    package var outputDirectory: URL
    /// Checked at every operation boundary; when set, the run stops cleanly and can be resumed.
    package var stop: StopRequest?
    /// Called before the checkpoint records results: a target that batches its own commits (a tabletop's in-process
    /// fake tenant) makes everything it acknowledged durable first, so the checkpoint never records a write the target lost.
    package var commitTarget: (@Sendable () async throws -> Void)?

    package init(outputDirectory: URL) {
        self.outputDirectory = outputDirectory
    }
}

/// A request to stop a run at the next operation boundary, set from a signal handler or another task.
package final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    package init() {}

    /// Asks the run to stop; returns `true` the first time.
    @discardableResult
    package func request() -> Bool {
        !flag.exchange(true, ordering: .acquiringAndReleasing)
    }

    package var isRequested: Bool { flag.load(ordering: .acquiring) }
}
