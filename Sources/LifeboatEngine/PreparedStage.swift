import LifeboatRunbook

/// A runbook stage with its kind (options checked) and its plan for one snapshot.
public struct PreparedStage: Sendable {
    public let stage: Runbook.Stage
    public let kind: any StageKind
    public let plan: StagePlan

    public init(stage: Runbook.Stage, kind: any StageKind, plan: StagePlan) {
        self.stage = stage
        self.kind = kind
        self.plan = plan
    }
}

/// A stage-level failure of one operation that is not a Graph error (e.g. an unresolvable reference).
public struct StageOperationError: Error, Sendable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
