import LifeboatRunbook

/// A runbook stage with its kind (options checked) and its plan for one snapshot.
package struct PreparedStage: Sendable {
    package let stage: Runbook.Stage
    package let kind: any StageKind
    package let plan: StagePlan

    package init(stage: Runbook.Stage, kind: any StageKind, plan: StagePlan) {
        self.stage = stage
        self.kind = kind
        self.plan = plan
    }
}

/// A stage-level failure of one operation that is not a Graph error (e.g. an unresolvable reference).
package struct StageOperationError: Error, Sendable {
    package var code: String
    package var message: String
    package init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
