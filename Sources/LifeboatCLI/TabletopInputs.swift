import ArgumentParser
import Foundation
import LifeboatFakeTenant
import LifeboatSnapshot
import LifeboatTabletop

/// What `lifeboat tabletop` runs: from the command line, or from a scenario with the command line's overrides.
struct TabletopInputs {
    var scenario: TabletopScenario?
    var runbookPath: String
    var snapshotPath: String
    var statePath: String
    var parameters: [String: String]
    /// An in-place scenario's target is the snapshot's own tenant.
    var targetDomain: String?

    /// Loads a scenario or exits with the invalid-input code, printing every problem with its line.
    static func loadScenario(_ path: String) throws -> TabletopScenario {
        do {
            return try TabletopScenario.load(contentsOf: URL(fileURLWithPath: path))
        } catch {
            printError("lifeboat: the scenario is not valid:\n\(error)")
            throw ExitStatus.invalidInput
        }
    }

    static func resolve(scenario path: String?, runbook: String?, snapshot: String?, state: String?, parameters: [String: String]) throws
        -> TabletopInputs
    {
        let scenario = try path.map(loadScenario)
        let statePath = state ?? "drill/\(scenario?.name ?? "tabletop").sqlite"
        var snapshotPath = snapshot
        if snapshotPath == nil, let scenario {
            switch scenario.source {
            case .snapshot(let path): snapshotPath = path
            case .generated(let options):
                // Generated once next to the state; the generator is deterministic, so a resume finds the same tenant.
                let directory = URL(fileURLWithPath: statePath + ".snapshot")
                do {
                    if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(Snapshot.manifestFileName).path) {
                        print("Generating a tenant of \(options.users) users for the scenario in \(directory.path)…")
                    }
                    snapshotPath = try GeneratedSnapshot.ensure(options, at: directory)
                } catch {
                    printError("lifeboat: cannot generate the scenario's tenant in \(directory.path): \(error)")
                    throw ExitStatus.invalidInput
                }
            }
        }
        guard let runbookPath = runbook ?? scenario?.runbookPath, let snapshotPath else {
            throw ValidationError("give --runbook and --snapshot, or --scenario")
        }
        var targetDomain: String?
        if scenario?.target == .inPlace {
            targetDomain = try RunSession.loadSnapshot(snapshotPath).manifest.sourceInitialDomain
        }
        return TabletopInputs(
            scenario: scenario, runbookPath: runbookPath, snapshotPath: snapshotPath, statePath: statePath,
            parameters: (scenario?.parameters ?? [:]).merging(parameters) { _, new in new }, targetDomain: targetDomain)
    }

    /// Rehearses at 1× and `scale`× the size, with one app and with `apps`, and prints how the recovery time grows.
    static func whatIf(_ inputs: TabletopInputs, scale: Int?, apps: Int?, profile: String?, concurrency: Int, operatorName: String)
        async throws
    {
        let behaviour: FakeTenantProfile
        do {
            behaviour = try FakeTenantProfile.named(profile ?? inputs.scenario?.profile ?? "realistic")
        } catch {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        let snapshot = try RunSession.loadSnapshot(inputs.snapshotPath)
        let directory = URL(fileURLWithPath: inputs.statePath + ".what-if")
        var sizes: [(label: String, path: String)] = [("1x", inputs.snapshotPath)]
        if let scale {
            let options: TenantGenerator.Options
            if case .generated(let base)? = inputs.scenario?.source, inputs.snapshotPath.hasSuffix(".snapshot") {
                options = GeneratedSnapshot.scaled(base, by: scale)
            } else {
                options = GeneratedSnapshot.scaled(snapshot, by: scale)
            }
            let path = directory.appendingPathComponent("\(scale)x-snapshot")
            print("Generating a tenant \(scale) times the size (\(options.users) users) in \(path.path)…")
            sizes.append(("\(scale)x", try GeneratedSnapshot.ensure(options, at: path)))
        }
        let appCounts = Array(Set([1, apps ?? 1])).sorted()
        var rows: [WhatIf.Row] = []
        for size in sizes {
            for count in appCounts {
                let label = size.label + (count > 1 ? ", \(count) apps" : "")
                print("Rehearsing \(label)…")
                var rehearsal = Rehearsal(
                    runbookPath: inputs.runbookPath, snapshotPath: size.path, profile: behaviour,
                    statePath: directory.appendingPathComponent("\(size.label)-\(count)apps.sqlite").path, operatorName: operatorName)
                rehearsal.parameters = inputs.parameters
                rehearsal.scenario = inputs.scenario
                rehearsal.apps = count
                rehearsal.concurrency = concurrency
                do {
                    rows.append(WhatIf.Row(label: size.label, result: try await rehearsal.run()))
                } catch {
                    printError("lifeboat: the \(label) rehearsal failed: \(error)")
                    throw ExitStatus.failed
                }
            }
        }
        print(WhatIf.table(rows, objective: rows.first?.result.estimate?.objectiveSeconds).joined(separator: "\n"))
        print("Each rehearsal's checkpoint is in \(directory.path) (`lifeboat report --state FILE` reports on it).")
    }
}
