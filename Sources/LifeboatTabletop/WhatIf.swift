import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot

/// Synthetic snapshots for scenarios with a generated tenant and for `--scale`.
package enum GeneratedSnapshot {
    /// Writes the tenant `options` describe into `directory` unless a snapshot is already there (the generator is
    /// deterministic, so the one on disk is the same bytes), and returns its path.
    package static func ensure(_ options: TenantGenerator.Options, at directory: URL) throws -> String {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(Snapshot.manifestFileName).path) {
            if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(RunbookParameterFile.besideSnapshot).path) {
                try writeParameters(options, besideSnapshotAt: directory)
            }
            return directory.path
        }
        try? FileManager.default.removeItem(at: directory)
        _ = try TenantGenerator(options).write(to: directory)
        try writeParameters(options, besideSnapshotAt: directory)
        return directory.path
    }

    /// A generated tenant's runbook parameters, next to it: its Global Administrators are the two break-glass
    /// accounts on the initial domain, so the first one runs the recovery.
    package static func writeParameters(_ options: TenantGenerator.Options, besideSnapshotAt directory: URL) throws {
        let domain = "\(options.name.lowercased()).onmicrosoft.com"
        let text =
            "# Runbook parameters of this generated tenant (read automatically next to the snapshot).\n"
            + "operator: bg-admin-01@\(domain)\nbreakGlass1: bg-admin-01@\(domain)\nbreakGlass2: bg-admin-02@\(domain)\n"
        try Data(text.utf8).write(to: directory.appendingPathComponent(RunbookParameterFile.besideSnapshot))
    }

    /// A generated tenant `factor` times the size of `snapshot`, with its custom domains (so the runbook's domain maps still apply).
    package static func scaled(_ snapshot: Snapshot, by factor: Int, seed: UInt64 = 1) -> TenantGenerator.Options {
        let custom = snapshot.domains.filter { !$0.isInitial && !$0.id.lowercased().hasSuffix(".onmicrosoft.com") }.map(\.id)
        let name =
            (snapshot.manifest.sourceInitialDomain ?? "contoso.onmicrosoft.com").split(separator: ".").first.map(String.init) ?? "contoso"
        return TenantGenerator.Options(
            users: max(10, snapshot.users.count * factor), groups: max(8, snapshot.groups.count * factor),
            applications: max(1, snapshot.applications.count * factor), seed: seed, name: name,
            customDomains: (1...3).contains(custom.count) ? custom : TenantGenerator.Options.runbookDomains)
    }

    /// `options` with `factor` times the objects.
    package static func scaled(_ options: TenantGenerator.Options, by factor: Int) -> TenantGenerator.Options {
        var scaled = options
        scaled.users = options.users * factor
        scaled.groups = options.groups.map { $0 * factor }
        scaled.applications = options.applications.map { $0 * factor }
        return scaled
    }
}

/// One unattended tabletop in process, from a fresh state: gates approved automatically (their planned time passes),
/// no output. What-if runs use it to compare sizes and app counts.
package struct Rehearsal: Sendable {
    package var runbookPath: String
    package var snapshotPath: String
    package var parameters: [String: String] = [:]
    package var profile: FakeTenantProfile
    /// Events to inject (kills are left out: an unattended rehearsal does not kill itself).
    package var scenario: TabletopScenario?
    package var apps = 1
    package var concurrency = 8
    package var statePath: String
    package var operatorName: String

    package init(runbookPath: String, snapshotPath: String, profile: FakeTenantProfile, statePath: String, operatorName: String) {
        self.runbookPath = runbookPath
        self.snapshotPath = snapshotPath
        self.profile = profile
        self.statePath = statePath
        self.operatorName = operatorName
    }

    /// What one rehearsal measured.
    package struct Result: Sendable {
        package var users: Int
        package var apps: Int
        package var outcome: RunOutcome
        package var estimate: RTOEstimate?
        package var statePath: String
        /// Write units the fake tenant admitted, and requests it answered 429.
        package var writeUnits = 0
        package var throttled = 0
    }

    /// Runs it; the state and fake tenant files are replaced if they exist.
    package func run() async throws -> Result {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: statePath).deletingLastPathComponent(), withIntermediateDirectories: true)
        // The rehearsal's own lock, taken before its files are replaced and released when it returns.
        let locks = RunLocks()
        try locks.take(statePath)
        defer { withExtendedLifetime(locks) {} }
        for suffix in ["", "-wal", "-shm", ".fake-tenant.sqlite", ".fake-tenant.sqlite-wal", ".fake-tenant.sqlite-shm"] {
            try? FileManager.default.removeItem(atPath: statePath + suffix)
        }
        let snapshot = try Snapshot.load(from: URL(fileURLWithPath: snapshotPath))
        let launcher = try await RunLauncher.open(statePath: statePath, mode: .tabletop, snapshot: snapshot, locks: locks)
        let store = launcher.store
        let clock = VirtualClock()
        let source = snapshot.manifest.sourceInitialDomain ?? "lifeboat.onmicrosoft.com"
        let inPlace = scenario?.target == .inPlace
        let domain = inPlace ? source : "\(source.split(separator: ".").first.map(String.init) ?? "lifeboat")dr.onmicrosoft.com"
        let tenant = try FakeTenant(
            stateFile: statePath + ".fake-tenant.sqlite", initialDomain: domain,
            profile: TabletopSession.profile(profile, for: scenario), clock: { clock.instant }, defersCommits: true)
        let builtins = [
            "target.initialDomain": tenant.initialDomain, "target.tenantId": tenant.tenantID,
            "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId,
            "snapshot.initialDomain": snapshot.manifest.sourceInitialDomain ?? "",
        ]
        let loaded = try Runbook.load(
            contentsOf: URL(fileURLWithPath: runbookPath), catalog: StageCatalog.specs, parameters: parameters,
            fileParameters: try RunbookParameterFile.beside(snapshotDirectory: URL(fileURLWithPath: snapshotPath)), builtins: builtins)
        let runbook = TabletopSession.runbook(loaded, for: scenario)
        let prepared = PlannedStages(try Executor.prepare(runbook, snapshot: snapshot))
        var unattended = scenario
        unattended?.events.removeAll {
            if case .kill = $0.action { return true }; return false
        }
        let session = TabletopSession(
            scenario: unattended, store: store, clock: clock, tenant: tenant, snapshot: snapshot,
            planned: prepared.counts.map { ($0.stageID, $0.operations) }, apps: apps)
        var options = ExecutorOptions(outputDirectory: URL(fileURLWithPath: statePath).deletingLastPathComponent())
        options.concurrency = concurrency
        options.gates = .autoApprove(by: "\(operatorName) (what-if auto-approval)")
        options.commitTarget = { try await tenant.commit() }
        let graph = session.graphClient()
        var request = RunLaunchRequest(
            runbook: runbook, runbookPath: runbookPath, snapshot: snapshot, snapshotPath: snapshotPath, parameters: parameters,
            target: RunTarget(
                description: "fake tenant \(tenant.initialDomain) (what-if)", tenantID: tenant.tenantID,
                fakeStatePath: statePath + ".fake-tenant.sqlite"),
            graph: graph, executor: options, operatorName: operatorName, toolVersion: "what-if")
        request.prepared = prepared
        request.observer = session.observer(wrapping: nil)
        request.simulatedClock = clock
        request.simulatedEpoch = VirtualClock.epoch
        request.profile = profile.name
        request.scenarioPath = scenario?.file
        request.apps = apps
        request.startSimulatedSeconds = 0
        // The state was removed above, so this is always a new run.
        guard case .started(let run) = try await launcher.launch(request) else {
            throw RunLaunchError.cannotOpen(path: statePath, reason: "not a fresh state")
        }
        try await session.begin(isNewRun: true, runbook: runbook)
        let outcome = try await run.executor.run()
        try await tenant.commit()
        await session.finish()
        let report = try await RunReport.build(from: store)
        return Result(
            users: snapshot.users.count, apps: apps, outcome: outcome, estimate: report.estimate, statePath: statePath,
            writeUnits: await tenant.admittedWriteUnits, throttled: await tenant.throttlingCounts.throttled)
    }
}

/// `tabletop --scale` / `--apps`: the same rehearsal at other tenant sizes and app counts, side by side.
package enum WhatIf {
    /// One row of the comparison.
    package struct Row: Sendable {
        package var label: String
        package var result: Rehearsal.Result

        package init(label: String, result: Rehearsal.Result) {
            self.label = label
            self.result = result
        }
    }

    /// Parses `10x` (or `10`) into a factor of at least 2.
    package static func factor(_ text: String) -> Int? {
        let digits = text.lowercased().hasSuffix("x") ? String(text.dropLast()) : text
        guard let value = Int(digits), (2...1_000).contains(value) else { return nil }
        return value
    }

    /// The comparison as a small table.
    package static func table(_ rows: [Row], objective: Double?) -> [String] {
        var lines = ["What-if: how the recovery time grows" + (objective.map { " (objective \(DurationText.format($0)))" } ?? "")]
        let header = ["size", "users", "apps", "simulated RTO", "throttling", "share", "objective"]
        var cells = rows.map { row -> [String] in
            let estimate = row.result.estimate
            let verdict: String
            switch row.result.outcome {
            case .completed: verdict = estimate?.verdict.rawValue ?? "—"
            case .failed(let stage, let count): verdict = "stopped: \(count) failed in \(stage)"
            case .pausedAtGate(let stage, _): verdict = "paused at \(stage)"
            case .stopped(let stage): verdict = "stopped by the operator" + (stage.map { " in \($0)" } ?? "")
            }
            return [
                row.label, String(row.result.users), String(row.result.apps), estimate.map { DurationText.format($0.totalSeconds) } ?? "—",
                estimate.map { DurationText.format($0.seconds("throttling")) } ?? "—",
                estimate.map { String(format: "%.0f%%", $0.throttlingShare * 100) } ?? "—", verdict,
            ]
        }
        cells.insert(header, at: 0)
        let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
        for (index, row) in cells.enumerated() {
            lines.append(
                "  "
                    + row.enumerated().map { column, cell in
                        column == 0
                            ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                            : String(repeating: " ", count: widths[column] - cell.count) + cell
                    }.joined(separator: "  "))
            if index == 0 { lines.append("  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines
    }
}
