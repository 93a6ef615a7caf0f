import Foundation
import LifeboatEngine

/// One event of the run's log, as the report reads it.
///
/// ``read(_:)`` is the one place in the report that maps the engine's ``EventKind`` to what the report needs: the builder
/// and the RTO estimate switch over ``Kind``.
struct ReportEvent: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case runStarted, runResumed, runWaiting, runDone, runFailed, runStopped
        case stageRunning, stageDone, stageFailed
        case gateWaiting, gateApproved
        case operationFailed
        case snapshotSignature
        case runbookChanged
        /// `throttle.*`: waits for Graph's quotas.
        case throttle
        /// The tabletop's per-limit throttling figures, written after the run's last step.
        case throttlingLimits
        case other

        /// Written by another process than the one running the stages (`lifeboat approve`, a resume's preamble), or after
        /// the run's last step: says nothing about where the run's own process was.
        var isFromAnotherProcess: Bool { self == .gateApproved || self == .runbookChanged || self == .throttlingLimits }
        /// A process started working on the run.
        var startsSession: Bool { self == .runStarted || self == .runResumed }
        var finishesStage: Bool { self == .stageDone || self == .stageFailed }
    }

    var kind: Kind
    /// The kind as stored, shown in the report (interruptions, throttling).
    var name: String
    var at: Date?
    var simulatedSeconds: Double?
    var stageID: String?
    var operationKey: String?
    var message: String

    /// Classifies the stored events by the engine's typed vocabulary (``EventKind``).
    static func read(_ records: [EventRecord]) -> [ReportEvent] {
        records.map { record in
            let kind: Kind = switch record.eventKind {
            case .runStarted: .runStarted
            case .runResumed: .runResumed
            case .run(.waiting): .runWaiting
            case .run(.done): .runDone
            case .run(.failed): .runFailed
            case .runStopped: .runStopped
            case .stage(.running): .stageRunning
            case .stage(.done): .stageDone
            case .stage(.failed): .stageFailed
            case .gateWaiting: .gateWaiting
            case .gateApproved: .gateApproved
            case .operationFailed: .operationFailed
            case .snapshotSignature: .snapshotSignature
            case .runbookChanged: .runbookChanged
            case .throttlingLimits: .throttlingLimits
            case .throttle: .throttle
            default: .other
            }
            return ReportEvent(kind: kind, name: record.kind, at: ReportTime.parse(record.at), simulatedSeconds: record.simulatedSeconds,
                               stageID: record.stageID, operationKey: record.operationKey, message: record.message)
        }
    }
}
