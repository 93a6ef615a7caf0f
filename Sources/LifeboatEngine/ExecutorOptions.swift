import Foundation
import Synchronization

/// Settings of one executor invocation.
public struct ExecutorOptions: Sendable {
    /// Writes in flight at once.
    public var concurrency: Int = 8
    public var gates: GatePolicy = .pause
    /// Operations per checkpoint window, per slot of ``concurrency``: every window commits its intents before any of
    /// its writes is sent and its results after the last one returns. Larger windows mean fewer checkpoint transactions
    /// and fewer pauses while a window's last writes finish, and more look-ups after a crash.
    public var windowPerSlot = 16
    /// Plan a stage only when the run reaches it, and not at all when the checkpoint already holds its operations. Only
    /// for a resumed run whose runbook, parameters and snapshot are the ones it started with: every stage was validated
    /// and planned before its first write, and a plan of the same inputs is the same plan. A resume then reaches its first
    /// write without planning the whole runbook (seconds at 100,000 users).
    public var planStagesWhenReached = false
    /// Attempts for one operation across ambiguous failures and replication lag.
    public var maxAttempts: Int = 5
    public var crash: SimulatedCrash?
    /// When set, decides every gate the run reaches (interactive tabletop); ``gates`` is not used.
    public var gateDecider: (any GateDecider)?
    /// Where relative output paths (ID map exports) are resolved.
    public var outputDirectory: URL
    /// Checked at every operation boundary; when set, the run stops cleanly and can be resumed.
    public var stop: StopRequest?
    /// Called before the checkpoint records results: a target that batches its own commits (a tabletop's in-process
    /// fake tenant) makes everything it acknowledged durable first, so the checkpoint never records a write the target lost.
    public var commitTarget: (@Sendable () async throws -> Void)?

    public init(outputDirectory: URL) {
        self.outputDirectory = outputDirectory
    }
}

/// A request to stop a run at the next operation boundary, set from a signal handler or another task.
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the run to stop; returns `true` the first time.
    @discardableResult
    public func request() -> Bool {
        !flag.exchange(true, ordering: .acquiringAndReleasing)
    }

    public var isRequested: Bool { flag.load(ordering: .acquiring) }
}
