import ArgumentParser
import Foundation
import LifeboatJSON
import LifeboatReadiness
import LifeboatRunbook
import LifeboatSnapshot

/// `lifeboat readiness`: what this snapshot and runbook would not bring back, before the day they are needed.
struct ReadinessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readiness",
        abstract: "Check a snapshot and runbook for what a recovery could not restore, lock-out risks, dangling references and staleness.",
        discussion: """
            Reads only the snapshot and the runbook; touches no tenant. Each finding has a severity (critical, warning,
            info), the objects concerned and the fix. Exit codes: 0 when no finding is critical, 1 when one is,
            2 for invalid input.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var runbook: RunbookOptions

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(
        help: ArgumentHelp(
            "An estimated recovery time (e.g. 6h30m or seconds, from a tabletop) to compare with the runbook's objective.",
            valueName: "duration"))
    var estimatedRto: String?

    func validate() throws {
        if let estimatedRto, DurationText.seconds(estimatedRto) == nil {
            throw ValidationError("--estimated-rto expects a duration from 0s to 3650d, such as 6h30m, 45m or 3600")
        }
    }

    func run() async throws {
        let snapshot = try RunSession.loadSnapshot(runbook.snapshot)
        let builtins = RunSession.builtins(
            snapshot: snapshot, targetDomain: RunSession.defaultTargetDomain(for: snapshot), targetTenantID: "")
        let loaded = try RunSession.loadRunbook(
            runbook.runbook, parameters: try runbook.parameterValues(), builtins: builtins,
            snapshotPath: runbook.snapshot)
        let estimate = estimatedRto.flatMap(DurationText.seconds)
        let report = Readiness.assess(Readiness.Input(snapshot: snapshot, runbook: loaded, estimatedRTOSeconds: estimate))
        switch format {
        case .text: print(report.text())
        case .json: print(String(decoding: try JSONCoding.encodePretty(report), as: UTF8.self))
        }
        if report.hasCritical { throw ExitStatus.failed }
    }
}
