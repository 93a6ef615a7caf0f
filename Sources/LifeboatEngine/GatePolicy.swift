import LifeboatRunbook

/// How gates are decided when the executor reaches them.
package enum GatePolicy: Sendable, Hashable {
    /// Approve automatically and record who did (tabletop default).
    case autoApprove(by: String)
    /// Stop and wait for `lifeboat approve`.
    case pause
}

/// A gate's decision made in a facilitated exercise (an interactive tabletop).
package enum GateOutcome: Sendable, Hashable {
    /// Approved by `by`; the decider has already let the people's time pass on the simulated clock.
    case approve(by: String, note: String?)
    /// Stop as ``GatePolicy/pause`` does: `lifeboat approve` decides later.
    case pause
}

/// How the executor settles a gate that is not approved yet.
enum GateResolution: Sendable, Hashable {
    /// Approve it in the checkpoint; `peopleTimePasses` lets the stage's estimated people time pass on a simulated clock
    /// first (an unattended rehearsal; a decider has already let it pass).
    case approve(by: String, note: String, peopleTimePasses: Bool)
    /// Stop the run at the gate; `lifeboat approve` decides it later.
    case pause
}

/// Decides gates as they come (an operator at a prompt); consulted instead of ``ExecutorOptions/gates``.
package protocol GateDecider: Sendable {
    func decide(_ stage: Runbook.Stage, instructions: String) async throws -> GateOutcome
}
