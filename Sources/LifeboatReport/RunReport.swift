import Foundation
import LifeboatEngine
import LifeboatSnapshot

/// Everything a post-incident report says about one run, read from its checkpoint database.
///
/// A plain value: built once by ``RunReport/build(from:generatedAt:)`` from `CheckpointStore` reads, then handed to the
/// Markdown, HTML and JSON renderers. Nothing in it is a secret (the checkpoint holds none by design), and every string
/// that came from the snapshot — display names above all — is attacker-controlled and escaped by each renderer.
package struct RunReport: Sendable, Hashable {
    /// When the report was generated (injected by tests).
    package var generatedAt: Date
    package var run: RunSummary
    package var custody: ChainOfCustody
    /// Operation counts per object type (or per relationship kind), in a fixed order.
    package var counts: [TypeCounts]
    package var timeline: Timeline
    /// Operations that are failed now, grouped by Graph error code.
    package var failures: [FailureGroup]
    /// Errors recorded during the run for operations that a later attempt completed.
    package var resolvedErrors: [ResolvedError]
    /// Operations skipped at plan time or by their stage, grouped by the follow-up that explains them.
    package var skipped: [SkippedGroup]
    /// Everything Lifeboat could not restore and a person must act on, grouped by category.
    package var followUps: [FollowUpGroup]
    /// Follow-ups of category `ca-report-only`: conditional access policies restored in report-only mode.
    package var conditionalAccessReportOnly: [FollowUpItem]
    /// Whether the runbook has a conditional-access stage at all.
    package var hasConditionalAccessStage: Bool
    /// The `verify` stages of the run (none before the verify stage kind exists).
    package var verification: [VerificationStage]
    package var idMap: IDMapSummary
    /// The recovery-time estimate of a run on a simulated clock (tabletops); nil for a run on the wall clock.
    package var estimate: RTOEstimate?
    /// The readiness verdict recorded when the run started; nil when the run recorded none.
    package var readiness: ReadinessSection?
}

/// The readiness verdict of a run (`readiness.*` events): what its snapshot and runbook could not bring back, and the fixes.
package struct ReadinessSection: Sendable, Hashable {
    package struct Finding: Sendable, Hashable {
        /// `critical`, `warning` or `info`.
        package var severity: String
        /// The finding's kind, e.g. `clientSecrets`.
        package var kind: String
        package var summary: String
        package var fix: String
        /// How many objects the finding is about; ``objects`` holds the first of them.
        package var objectCount: Int
        /// The first objects concerned, as `type name`.
        package var objects: [String]
    }
    /// The runbook, the snapshot and the tally, in one line.
    package var headline: String
    package var findings: [Finding]
}

/// The outcome, times and recovery-time objective of a run.
package struct RunSummary: Sendable, Hashable {
    /// How a run ended, in the words of the report.
    package enum Outcome: String, Sendable, Hashable {
        /// Every stage is done.
        case completed
        /// A stage has failed operations; the run waits for a fix and `lifeboat resume`.
        case stoppedWithFailures = "stopped-with-failures"
        /// Paused at a gate that needs `lifeboat approve`.
        case pausedAtGate = "paused-at-gate"
        /// Still running, or the process died and nobody resumed it yet.
        case incomplete
    }

    /// Whether the recovery-time objective was met.
    package enum ObjectiveVerdict: String, Sendable, Hashable {
        case met, missed
        /// The run is not finished and the objective has not passed yet.
        case pending
        /// The runbook states no objective.
        case none
    }

    package var id: String
    package var mode: RunMode
    package var status: ProgressStatus
    package var outcome: Outcome
    package var runbookName: String
    package var startedAt: Date
    /// When the run finished, or nil when it has not.
    package var finishedAt: Date?
    /// The last event of the log: the end of the report's time axis.
    package var lastEventAt: Date
    /// From the start to the finish (or the last event, when the run is not finished).
    package var wallSeconds: Double
    /// Simulated seconds from the first to the last event, when the run was on a virtual clock.
    package var simulatedSeconds: Double?
    /// Time lost to interruptions (process killed, stopped after failures): from the last event before a resume to the resume.
    package var downtimeSeconds: Double
    /// Time spent waiting at gates for a person's approval.
    package var gateWaitSeconds: Double
    package var objectiveSeconds: Double?
    /// The time compared with the objective: simulated time when there is one, otherwise wall time.
    package var measuredSeconds: Double
    /// Whether ``measuredSeconds`` is simulated time.
    package var measuredIsSimulated: Bool
    package var objective: ObjectiveVerdict
    package var interruptionCount: Int
}

/// Where the data came from, what ran on it, and who decided what.
package struct ChainOfCustody: Sendable, Hashable {
    package var sourceTenantId: String
    package var snapshotPath: String
    package var snapshotCapturedAt: String
    /// Seconds between the capture and the start of the restore, when the capture time parses.
    package var snapshotAgeSeconds: Double?
    package var manifestSHA256: String
    /// Verified with the operator's key, signed but not verified, or not signed (the `snapshot.signature` event of the run).
    package var signatureStatus: String
    package var runbookPath: String
    package var runbookName: String
    package var runbookSHA256: String
    package var runbookChanged: [String]
    package var toolVersion: String
    package var target: String
    package var targetTenantId: String?
    package var operatorName: String
    package var host: String
    package var parameters: [String: String]
    /// The processes that worked on the run: the start and every resume, with who and where.
    package var sessions: [Session]
    package var gates: [GateDecision]

    /// One process's share of the run.
    package struct Session: Sendable, Hashable {
        /// `started` or `resumed`.
        package var kind: String
        package var at: Date
        /// The event's own words, e.g. "resumed by ada on drill-host".
        package var message: String
        /// The last event this process wrote.
        package var lastEventAt: Date
    }
}

/// A gate: what it asked, who approved it, when, and how long the run waited.
package struct GateDecision: Sendable, Hashable {
    package var stageID: String
    package var instructions: String
    package var status: String
    package var requestedAt: Date?
    package var decidedAt: Date?
    package var decidedBy: String?
    package var note: String?
    /// Seconds from the request to the decision (or to the last event while it still waits).
    package var waitSeconds: Double?
}

/// Counts of one object type (or relationship kind) by how it ended.
package struct TypeCounts: Sendable, Hashable {
    /// An object type (`user`, `group`, …) or, for relationship writes, the stage kind (`groups.members`).
    package var type: String
    /// Brought back from the recycle bin with the original id.
    package var restored = 0
    /// Written new by this run.
    package var created = 0
    /// A relationship or property write applied.
    package var applied = 0
    /// Found in the target by natural key and taken over.
    package var adopted = 0
    /// Already as the snapshot says; nothing written.
    package var unchanged = 0
    package var skipped = 0
    package var failed = 0
    /// Still `pending` or `sent`: the run has not reached or finished them.
    package var unfinished = 0
    /// Follow-ups attached to operations of this type.
    package var followUps = 0

    package init(type: String) { self.type = type }
}

/// The run on a time axis: stages, interruptions, gate waits and throttling.
package struct Timeline: Sendable, Hashable {
    package var start: Date
    package var end: Date
    package var stages: [StageSpan]
    package var interruptions: [Interruption]
    package var gateWaits: [GateWait]
    package var throttling: [ThrottleEvent]

    /// One stage from its first `stage.running` to its last `stage.done` or `stage.failed`.
    package struct StageSpan: Sendable, Hashable {
        package var id: String
        package var kind: String
        package var title: String
        package var status: ProgressStatus
        package var startedAt: Date?
        package var finishedAt: Date?
        /// Simulated seconds the stage took, when it ran on a virtual clock.
        package var simulatedSeconds: Double?
        package var operations: Int
        /// The stage's last event: where an unfinished stage's bar ends.
        package var lastEventAt: Date?
    }

    /// A stop and the resume that followed it.
    package struct Interruption: Sendable, Hashable {
        /// Why the run stopped.
        package enum Cause: String, Sendable, Hashable {
            /// The process ended without writing a stop: killed, crashed, lost its machine.
            case processEnded = "process-ended"
            /// The run stopped because a stage had failed operations.
            case stoppedAfterFailures = "stopped-after-failures"
            /// The operator stopped the run (Ctrl-C) between operations.
            case stoppedByOperator = "stopped-by-operator"
        }
        package var cause: Cause
        /// The last event before the stop.
        package var lastEventAt: Date
        package var lastEventKind: String
        /// The stage that was active, if any.
        package var stageID: String?
        package var resumedAt: Date
        /// The resume event's words: who resumed and where.
        package var resumedBy: String
        package var downtimeSeconds: Double
    }

    /// Time a gate held the run.
    package struct GateWait: Sendable, Hashable {
        package var stageID: String
        package var from: Date
        /// The approval, or nil while it still waits.
        package var until: Date?
        package var decidedBy: String?
    }

    /// An event of kind `throttle.*` (Graph answered 429 or 503 with Retry-After).
    package struct ThrottleEvent: Sendable, Hashable {
        package var at: Date
        package var kind: String
        package var stageID: String?
        package var message: String
    }
}

/// Operations that are failed now, with one Graph error code.
package struct FailureGroup: Sendable, Hashable {
    package var code: String
    /// What to do about this cause.
    package var action: String
    package var operations: [FailedOperation]
}

/// One failed operation with what Graph said.
package struct FailedOperation: Sendable, Hashable {
    package var key: String
    package var stageID: String
    package var type: String
    package var sourceID: String
    package var displayName: String
    package var code: String
    package var message: String
    package var requestID: String?
    package var attempts: Int
}

/// An `operation.failed` event whose operation a later attempt completed.
package struct ResolvedError: Sendable, Hashable {
    package var at: Date
    package var stageID: String?
    package var operationKey: String
    /// The event's words: display name, Graph code, message and request-id.
    package var message: String
}

/// Skipped operations that share a follow-up category.
package struct SkippedGroup: Sendable, Hashable {
    package var category: String
    package var action: String
    /// How many operations of the category were skipped.
    package var count: Int
    /// The first ``RunReport/shownPerGroup`` of them, in plan order (`lifeboat followups` lists every follow-up).
    package var operations: [SkippedOperation]
}

/// One skipped operation and why.
package struct SkippedOperation: Sendable, Hashable {
    package var key: String
    package var stageID: String
    package var type: String
    package var sourceID: String
    package var displayName: String
    package var reason: String
}

/// Follow-ups that share a category (`credentials`, `synced-object`, `guest-redemption`, …).
package struct FollowUpGroup: Sendable, Hashable {
    package var category: String
    /// How many follow-ups the category has in all.
    package var count: Int
    /// The first ``RunReport/shownPerGroup`` of them, in the order they were recorded; `lifeboat followups` lists all.
    package var items: [FollowUpItem]
}

extension RunReport {
    /// How many objects a report lists per follow-up category and per skipped category: enough to recognise the
    /// cause, few enough that a 100,000-user run's report stays readable. The rest are counted.
    package static let shownPerGroup = 10
}

/// One thing a person must do after the run.
package struct FollowUpItem: Sendable, Hashable {
    package var stageID: String
    package var operationKey: String?
    package var sourceID: String?
    package var displayName: String?
    package var message: String
    package var action: String
}

/// A `verify` stage's operations, as far as the checkpoint holds them.
package struct VerificationStage: Sendable, Hashable {
    package var stageID: String
    package var title: String
    package var status: ProgressStatus
    package var counts: [TypeCounts]
    /// Operations of the stage that did not pass (failed or skipped): the differences found.
    package var differences: [FailedOperation]
}

/// The ID map in numbers; the full map comes from `lifeboat idmap`.
package struct IDMapSummary: Sendable, Hashable {
    package var total: Int
    /// Per object type: how many were created, adopted and restored.
    package var byType: [Row]
    /// Rows that carry an old and a new appId (applications, service principals).
    package var withAppIDs: Int

    package struct Row: Sendable, Hashable {
        package var type: String
        package var created: Int
        package var adopted: Int
        package var restored: Int
    }
}
