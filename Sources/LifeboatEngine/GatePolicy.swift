import LifeboatRunbook

/// How gates are decided when the executor reaches them.
public enum GatePolicy: Sendable, Hashable {
    /// Approve automatically and record who did (tabletop default).
    case autoApprove(by: String)
    /// Stop and wait for `lifeboat approve`.
    case pause
}

/// A gate's decision made in a facilitated exercise (an interactive tabletop).
public enum GateOutcome: Sendable, Hashable {
    /// Approved by `by`; the decider has already let the people's time pass on the simulated clock.
    case approve(by: String, note: String?)
    /// Stop as ``GatePolicy/pause`` does: `lifeboat approve` decides later.
    case pause
}

/// Decides gates as they come (an operator at a prompt); consulted instead of ``ExecutorOptions/gates``.
public protocol GateDecider: Sendable {
    func decide(_ stage: Runbook.Stage, instructions: String) async throws -> GateOutcome
}
