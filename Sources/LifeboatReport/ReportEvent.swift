import Foundation
import LifeboatEngine

/// One event of the run's log, as the report reads it.
///
/// ``read(_:)`` is the one place in the report that maps the engine's ``RunEvent`` to what the report needs: the builder
/// and the RTO estimate switch over ``Kind``, and read payloads (the signature statement, findings, per-limit figures)
/// from ``event``.
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
    /// The event, typed.
    var event: RunEvent
    /// The kind as stored, shown in the report (interruptions, throttling).
    var name: String
    var at: Date?
    var simulatedSeconds: Double?
    var stageID: String?
    var operationKey: String?
    /// The message as stored (what the report prints).
    var message: String

    /// Classifies the stored events by the engine's typed vocabulary (``RunEvent``); every case is named, so a case the
    /// engine adds must be classified here before the report builds.
    static func read(_ records: [EventRecord]) -> [ReportEvent] {
        records.map { record in
            let event = record.event
            let kind: Kind =
                switch event {
                case .runStarted: .runStarted
                case .runResumed: .runResumed
                case .runStatus(.waiting, _): .runWaiting
                case .runStatus(.done, _): .runDone
                case .runStatus(.failed, _): .runFailed
                case .runStatus(.pending, _), .runStatus(.running, _): .other
                case .runStopped: .runStopped
                case .stageStatus(_, .running, _): .stageRunning
                case .stageStatus(_, .done, _): .stageDone
                case .stageStatus(_, .failed, _): .stageFailed
                case .stageStatus(_, .pending, _), .stageStatus(_, .waiting, _): .other
                case .gateWaiting: .gateWaiting
                case .gateApproved: .gateApproved
                case .operationFailed: .operationFailed
                case .snapshotSignature: .snapshotSignature
                case .runbookChanged: .runbookChanged
                case .throttlingLimits: .throttlingLimits
                case .throttled: .throttle
                case .readinessAssessed, .readinessFinding, .preflightAssessed, .stagePlanned, .operationsSent, .operationsRecorded,
                    .operationsRetry, .operationsReconciling, .operationAdopted, .gateDecision, .followUpsResolved, .idMapExported,
                    .securityDefaultsDisabled, .tenantRecorded, .domainTXT, .domainHeld, .scenarioLoaded, .scenarioSetup, .scenarioInjected,
                    .scenarioRecovered, .unrecognized:
                    .other
                }
            return ReportEvent(
                kind: kind, event: event, name: record.kind, at: ReportTime.parse(record.at), simulatedSeconds: record.simulatedSeconds,
                stageID: record.stageID, operationKey: record.operationKey, message: record.message)
        }
    }
}
