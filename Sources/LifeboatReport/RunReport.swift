import Foundation
import LifeboatEngine
import LifeboatSnapshot

/// Everything a post-incident report says about one run, read from its checkpoint database.
///
/// A plain value: built once by ``RunReport/build(from:generatedAt:)`` from `CheckpointStore` reads, then handed to the
/// Markdown, HTML and JSON renderers. Nothing in it is a secret (the checkpoint holds none by design), and every string
/// that came from the snapshot — display names above all — is attacker-controlled and escaped by each renderer.
public struct RunReport: Sendable, Hashable {
    /// When the report was generated (injected by tests).
    public var generatedAt: Date
    public var run: RunSummary
    public var custody: ChainOfCustody
    /// Operation counts per object type (or per relationship kind), in a fixed order.
    public var counts: [TypeCounts]
    public var timeline: Timeline
    /// Operations that are failed now, grouped by Graph error code.
    public var failures: [FailureGroup]
    /// Errors recorded during the run for operations that a later attempt completed.
    public var resolvedErrors: [ResolvedError]
    /// Operations skipped at plan time or by their stage, grouped by the follow-up that explains them.
    public var skipped: [SkippedGroup]
    /// Everything Lifeboat could not restore and a person must act on, grouped by category.
    public var followUps: [FollowUpGroup]
    /// Follow-ups of category `ca-report-only`: conditional access policies restored in report-only mode.
    public var conditionalAccessReportOnly: [FollowUpItem]
    /// Whether the runbook has a conditional-access stage at all.
    public var hasConditionalAccessStage: Bool
    /// The `verify` stages of the run (none before the verify stage kind exists).
    public var verification: [VerificationStage]
    public var idMap: IDMapSummary
    /// The recovery-time estimate of a run on a simulated clock (tabletops); nil for a run on the wall clock.
    public var estimate: RTOEstimate?
    /// The readiness verdict recorded when the run started; nil when the run recorded none.
    public var readiness: ReadinessSection?
}

/// The readiness verdict of a run (`readiness.*` events): what its snapshot and runbook could not bring back, and the fixes.
public struct ReadinessSection: Sendable, Hashable {
    public struct Finding: Sendable, Hashable {
        /// `critical`, `warning` or `info`.
        public var severity: String
        /// The finding's kind, e.g. `clientSecrets`.
        public var kind: String
        public var summary: String
        public var fix: String
        /// How many objects the finding is about; ``objects`` holds the first of them.
        public var objectCount: Int
        /// The first objects concerned, as `type name`.
        public var objects: [String]
    }
    /// The runbook, the snapshot and the tally, in one line.
    public var headline: String
    public var findings: [Finding]
}

/// The outcome, times and recovery-time objective of a run.
public struct RunSummary: Sendable, Hashable {
    /// How a run ended, in the words of the report.
    public enum Outcome: String, Sendable, Hashable {
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
    public enum ObjectiveVerdict: String, Sendable, Hashable {
        case met, missed
        /// The run is not finished and the objective has not passed yet.
        case pending
        /// The runbook states no objective.
        case none
    }

    public var id: String
    public var mode: RunMode
    public var status: ProgressStatus
    public var outcome: Outcome
    public var runbookName: String
    public var startedAt: Date
    /// When the run finished, or nil when it has not.
    public var finishedAt: Date?
    /// The last event of the log: the end of the report's time axis.
    public var lastEventAt: Date
    /// From the start to the finish (or the last event, when the run is not finished).
    public var wallSeconds: Double
    /// Simulated seconds from the first to the last event, when the run was on a virtual clock.
    public var simulatedSeconds: Double?
    /// Time lost to interruptions (process killed, stopped after failures): from the last event before a resume to the resume.
    public var downtimeSeconds: Double
    /// Time spent waiting at gates for a person's approval.
    public var gateWaitSeconds: Double
    public var objectiveSeconds: Double?
    /// The time compared with the objective: simulated time when there is one, otherwise wall time.
    public var measuredSeconds: Double
    /// Whether ``measuredSeconds`` is simulated time.
    public var measuredIsSimulated: Bool
    public var objective: ObjectiveVerdict
    public var interruptionCount: Int
}

/// Where the data came from, what ran on it, and who decided what.
public struct ChainOfCustody: Sendable, Hashable {
    public var sourceTenantId: String
    public var snapshotPath: String
    public var snapshotCapturedAt: String
    /// Seconds between the capture and the start of the restore, when the capture time parses.
    public var snapshotAgeSeconds: Double?
    public var manifestSHA256: String
    /// Verified with the operator's key, signed but not verified, or not signed (the `snapshot.signature` event of the run).
    public var signatureStatus: String
    public var runbookPath: String
    public var runbookName: String
    public var runbookSHA256: String
    public var runbookChanged: [String]
    public var toolVersion: String
    public var target: String
    public var targetTenantId: String?
    public var operatorName: String
    public var host: String
    public var parameters: [String: String]
    /// The processes that worked on the run: the start and every resume, with who and where.
    public var sessions: [Session]
    public var gates: [GateDecision]

    /// One process's share of the run.
    public struct Session: Sendable, Hashable {
        /// `started` or `resumed`.
        public var kind: String
        public var at: Date
        /// The event's own words, e.g. "resumed by ada on drill-host".
        public var message: String
        /// The last event this process wrote.
        public var lastEventAt: Date
    }
}

/// A gate: what it asked, who approved it, when, and how long the run waited.
public struct GateDecision: Sendable, Hashable {
    public var stageID: String
    public var instructions: String
    public var status: String
    public var requestedAt: Date?
    public var decidedAt: Date?
    public var decidedBy: String?
    public var note: String?
    /// Seconds from the request to the decision (or to the last event while it still waits).
    public var waitSeconds: Double?
}

/// Counts of one object type (or relationship kind) by how it ended.
public struct TypeCounts: Sendable, Hashable {
    /// An object type (`user`, `group`, …) or, for relationship writes, the stage kind (`groups.members`).
    public var type: String
    /// Brought back from the recycle bin with the original id.
    public var restored = 0
    /// Written new by this run.
    public var created = 0
    /// A relationship or property write applied.
    public var applied = 0
    /// Found in the target by natural key and taken over.
    public var adopted = 0
    /// Already as the snapshot says; nothing written.
    public var unchanged = 0
    public var skipped = 0
    public var failed = 0
    /// Still `pending` or `sent`: the run has not reached or finished them.
    public var unfinished = 0
    /// Follow-ups attached to operations of this type.
    public var followUps = 0

    public init(type: String) { self.type = type }
}

/// The run on a time axis: stages, interruptions, gate waits and throttling.
public struct Timeline: Sendable, Hashable {
    public var start: Date
    public var end: Date
    public var stages: [StageSpan]
    public var interruptions: [Interruption]
    public var gateWaits: [GateWait]
    public var throttling: [ThrottleEvent]

    /// One stage from its first `stage.running` to its last `stage.done` or `stage.failed`.
    public struct StageSpan: Sendable, Hashable {
        public var id: String
        public var kind: String
        public var title: String
        public var status: ProgressStatus
        public var startedAt: Date?
        public var finishedAt: Date?
        /// Simulated seconds the stage took, when it ran on a virtual clock.
        public var simulatedSeconds: Double?
        public var operations: Int
        /// The stage's last event: where an unfinished stage's bar ends.
        public var lastEventAt: Date?
    }

    /// A stop and the resume that followed it.
    public struct Interruption: Sendable, Hashable {
        /// Why the run stopped.
        public enum Cause: String, Sendable, Hashable {
            /// The process ended without writing a stop: killed, crashed, lost its machine.
            case processEnded = "process-ended"
            /// The run stopped because a stage had failed operations.
            case stoppedAfterFailures = "stopped-after-failures"
            /// The operator stopped the run (Ctrl-C) between operations.
            case stoppedByOperator = "stopped-by-operator"
        }
        public var cause: Cause
        /// The last event before the stop.
        public var lastEventAt: Date
        public var lastEventKind: String
        /// The stage that was active, if any.
        public var stageID: String?
        public var resumedAt: Date
        /// The resume event's words: who resumed and where.
        public var resumedBy: String
        public var downtimeSeconds: Double
    }

    /// Time a gate held the run.
    public struct GateWait: Sendable, Hashable {
        public var stageID: String
        public var from: Date
        /// The approval, or nil while it still waits.
        public var until: Date?
        public var decidedBy: String?
    }

    /// An event of kind `throttle.*` (Graph answered 429 or 503 with Retry-After).
    public struct ThrottleEvent: Sendable, Hashable {
        public var at: Date
        public var kind: String
        public var stageID: String?
        public var message: String
    }
}

/// Operations that are failed now, with one Graph error code.
public struct FailureGroup: Sendable, Hashable {
    public var code: String
    /// What to do about this cause.
    public var action: String
    public var operations: [FailedOperation]
}

/// One failed operation with what Graph said.
public struct FailedOperation: Sendable, Hashable {
    public var key: String
    public var stageID: String
    public var type: String
    public var sourceID: String
    public var displayName: String
    public var code: String
    public var message: String
    public var requestID: String?
    public var attempts: Int
}

/// An `operation.failed` event whose operation a later attempt completed.
public struct ResolvedError: Sendable, Hashable {
    public var at: Date
    public var stageID: String?
    public var operationKey: String
    /// The event's words: display name, Graph code, message and request-id.
    public var message: String
}

/// Skipped operations that share a follow-up category.
public struct SkippedGroup: Sendable, Hashable {
    public var category: String
    public var action: String
    /// How many operations of the category were skipped.
    public var count: Int
    /// The first ``RunReport/shownPerGroup`` of them, in plan order (`lifeboat followups` lists every follow-up).
    public var operations: [SkippedOperation]
}

/// One skipped operation and why.
public struct SkippedOperation: Sendable, Hashable {
    public var key: String
    public var stageID: String
    public var type: String
    public var sourceID: String
    public var displayName: String
    public var reason: String
}

/// Follow-ups that share a category (`credentials`, `synced-object`, `guest-redemption`, …).
public struct FollowUpGroup: Sendable, Hashable {
    public var category: String
    /// How many follow-ups the category has in all.
    public var count: Int
    /// The first ``RunReport/shownPerGroup`` of them, in the order they were recorded; `lifeboat followups` lists all.
    public var items: [FollowUpItem]
}

extension RunReport {
    /// How many objects a report lists per follow-up category and per skipped category: enough to recognise the
    /// cause, few enough that a 100,000-user run's report stays readable. The rest are counted.
    public static let shownPerGroup = 10
}

/// One thing a person must do after the run.
public struct FollowUpItem: Sendable, Hashable {
    public var stageID: String
    public var operationKey: String?
    public var sourceID: String?
    public var displayName: String?
    public var message: String
    public var action: String
}

/// A `verify` stage's operations, as far as the checkpoint holds them.
public struct VerificationStage: Sendable, Hashable {
    public var stageID: String
    public var title: String
    public var status: ProgressStatus
    public var counts: [TypeCounts]
    /// Operations of the stage that did not pass (failed or skipped): the differences found.
    public var differences: [FailedOperation]
}

/// The ID map in numbers; the full map comes from `lifeboat idmap`.
public struct IDMapSummary: Sendable, Hashable {
    public var total: Int
    /// Per object type: how many were created, adopted and restored.
    public var byType: [Row]
    /// Rows that carry an old and a new appId (applications, service principals).
    public var withAppIDs: Int

    public struct Row: Sendable, Hashable {
        public var type: String
        public var created: Int
        public var adopted: Int
        public var restored: Int
    }
}
