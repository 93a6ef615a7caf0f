/// Progress the executor reports as it goes (to a terminal, a log, or a test).
package enum RunProgress: Sendable {
    case stageStarted(id: String, title: String, total: Int)
    case operations(id: String, finished: Int, total: Int)
    case stageFinished(id: String, status: ProgressStatus, counts: [OperationState: Int])
    case gateWaiting(id: String, instructions: String)
    case gateApproved(id: String, by: String)
    case warning(String)
}

/// Receives ``RunProgress``.
package protocol RunObserver: Sendable {
    func report(_ progress: RunProgress)
}

/// How an executor invocation ended.
package enum RunOutcome: Sendable, Equatable {
    /// Every stage is done.
    case completed
    /// Stopped at a gate that needs `lifeboat approve`.
    case pausedAtGate(stageID: String, instructions: String)
    /// A stage has failed operations; fix the cause and resume.
    case failed(stageID: String, failedOperations: Int)
    /// The operator asked the run to stop (Ctrl-C); it stopped between operations and resumes where it stopped.
    case stopped(stageID: String?)
}
