import ArgumentParser
import Foundation
import LifeboatCapture
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatReadiness
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTabletop

#if canImport(Glibc)
    import Glibc
#endif

/// Everything needed to start or resume a tabletop run.
struct TabletopSetup {
    var runbookPath: String
    var snapshotPath: String
    var statePath: String
    var fakeStatePath: String?
    var parameters: [String: String]
    var targetDomain: String?
    var concurrency: Int
    var pauseAtGates: Bool
    var operatorName: String
    var crash: SimulatedCrash?
    var dropResponseEvery: Int?
    /// The fake tenant's profile name or file (default `realistic`).
    var profile: String?
    /// The scenario the exercise follows: injected events, gate durations, an in-place target.
    var scenario: TabletopScenario?
    /// App registrations sharing the work (Graph's quotas are per app).
    var apps: Int?
    /// Decide gates at a prompt on standard input (a facilitated exercise) instead of pausing.
    var promptAtGates = false
}

/// Loads, validates and runs: the path shared by `tabletop` and `resume`.
enum RunSession {
    /// The OS user running lifeboat.
    static var operatorName: String {
        if let name = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    static var host: String { ProcessInfo.processInfo.hostName }

    /// Loads a snapshot or exits with the invalid-input code.
    static func loadSnapshot(_ path: String) throws -> Snapshot {
        do {
            return try Snapshot.load(from: URL(fileURLWithPath: path))
        } catch {
            printError("lifeboat: the snapshot was refused: \(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// ``loadSnapshot(_:)`` reading the collection files side by side (a run waits for it before its first write).
    static func loadSnapshotConcurrently(_ path: String) async throws -> Snapshot {
        do {
            return try await Snapshot.loadConcurrently(from: URL(fileURLWithPath: path))
        } catch {
            printError("lifeboat: the snapshot was refused: \(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// Values Lifeboat supplies to every runbook.
    static func builtins(snapshot: Snapshot, targetDomain: String, targetTenantID: String) -> [String: String] {
        [
            "target.initialDomain": targetDomain, "target.tenantId": targetTenantID,
            "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId,
            "snapshot.initialDomain": snapshot.manifest.sourceInitialDomain ?? "",
        ]
    }

    /// Loads a runbook or exits with the invalid-input code, printing every problem. `parameters.yaml` next to the snapshot
    /// (when `snapshotPath` is given and the file exists) supplies the values neither `--param` nor `--params` gave.
    static func loadRunbook(_ path: String, parameters: [String: String], builtins: [String: String], snapshotPath: String? = nil) throws
        -> Runbook
    {
        do {
            let beside =
                try snapshotPath.map { path throws(RunbookErrors) in
                    try RunbookParameterFile.beside(snapshotDirectory: URL(fileURLWithPath: path))
                } ?? [:]
            return try Runbook.load(
                contentsOf: URL(fileURLWithPath: path), catalog: StageCatalog.specs, parameters: parameters,
                fileParameters: beside, builtins: builtins)
        } catch {
            printError("lifeboat: the runbook is not valid:\n\(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// Opens the run's checkpoint under its lock (``RunLauncher/open(statePath:mode:snapshot:locks:clock:)``), or exits
    /// with the invalid-input code saying why not.
    static func openRun(_ statePath: String, mode: RunMode, snapshot: Snapshot) async throws -> RunLauncher {
        do {
            return try await RunLauncher.open(statePath: statePath, mode: mode, snapshot: snapshot)
        } catch {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// Applies the resume rules (``RunLauncher/launch(_:)``) and prints the outcome: warns when the runbook changed, exits
    /// with the invalid-input code when the run belongs to another target, and returns `nil` when the run is already complete.
    static func launch(
        _ launcher: RunLauncher, _ request: RunLaunchRequest, started: (LaunchedRun) -> String,
        resumed: (LaunchedRun) -> String
    ) async throws -> LaunchedRun? {
        let launch: RunLaunch
        do {
            launch = try await launcher.launch(request)
        } catch let error as RunLaunchError {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        let change: RunbookChange? =
            switch launch {
            case .alreadyComplete(_, let change): change
            case .started(let run), .resumed(let run): run.runbookChange
            }
        if change != nil {
            printError(
                "lifeboat: warning: the runbook changed since this run started; finished operations are kept, the rest follow the new runbook"
            )
        }
        switch launch {
        case .alreadyComplete(let record, _):
            print("Run \(record.id) is already complete; nothing to do. (`lifeboat status --state \(launcher.statePath)` shows it.)")
            return nil
        case .resumed(let run):
            print(resumed(run))
            return run
        case .started(let run):
            print(started(run))
            return run
        }
    }

    /// The target preflight (``TargetPreflight``), before the executor's first write: prints the findings, records them in
    /// the run's event log (a new run; they reach the report), and stops with the invalid-input code when one would stop
    /// the run midway. `granted` is the app's application permissions (the token's `roles`), `nil` when unknown.
    static func preflight(
        _ runbook: Runbook, snapshot: Snapshot, graph: GraphClient, granted: Set<String>?, store: CheckpointStore,
        isNewRun: Bool
    ) async throws {
        let report = await TargetPreflight.assess(
            TargetPreflight.Input(runbook: runbook, snapshot: snapshot, grantedPermissions: granted), graph: graph)
        if isNewRun || !report.blocking.isEmpty { try await report.record(in: store, simulatedSeconds: nil) }
        if !report.findings.isEmpty {
            print("Target preflight:\n" + report.lines.joined(separator: "\n"))
            fflush(nil)
        }
        guard report.blocking.isEmpty else {
            printError(report.stopMessage)
            try await store.setRunStatus(.failed, message: "stopped by the target preflight before any write", simulatedSeconds: nil)
            throw ExitStatus.invalidInput
        }
    }

    /// The application permissions in the Graph client's access token, `nil` when it has no token or the token has no claims.
    static func grantedPermissions(_ graph: GraphClient) async -> Set<String>? {
        guard let tokens = graph.tokens, let token = try? await tokens.accessToken() else { return nil }
        return TargetPreflight.roles(ofAccessToken: token)
    }

    /// Plans every stage before anything is written, or exits with the invalid-input code.
    @discardableResult
    static func prepare(_ runbook: Runbook, snapshot: Snapshot) throws -> [PreparedStage] {
        do {
            return try Executor.prepare(runbook, snapshot: snapshot)
        } catch {
            printError("lifeboat: \(runbook.file): \(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// The default target domain of a tabletop: `contoso.onmicrosoft.com` → `contosodr.onmicrosoft.com`.
    static func defaultTargetDomain(for snapshot: Snapshot) -> String {
        let source = snapshot.manifest.sourceInitialDomain ?? "lifeboat.onmicrosoft.com"
        let prefix = source.split(separator: ".").first.map(String.init) ?? "lifeboat"
        return "\(prefix)dr.onmicrosoft.com"
    }

    static func runTabletop(_ setup: TabletopSetup) async throws {
        if let finished = try await finishedRun(statePath: setup.statePath, snapshotPath: setup.snapshotPath, mode: .tabletop) {
            print("Run \(finished.id) is already complete; nothing to do. (`lifeboat status --state \(setup.statePath)` shows it.)")
            return
        }
        // A resume opens its fake tenant (every object written so far) while the snapshot loads: each takes a second or
        // more at 100,000 users, and the first write waits for both.
        let clock = VirtualClock()
        let opening = try await openingTenant(setup, clock: clock)
        let snapshotPath = setup.snapshotPath
        let snapshot = try await loadSnapshotConcurrently(snapshotPath)
        let launcher = try await openRun(setup.statePath, mode: .tabletop, snapshot: snapshot)
        let store = launcher.store
        let existing = launcher.existing
        let fakePath = setup.fakeStatePath ?? existing?.record.fakeStatePath ?? (setup.statePath + ".fake-tenant.sqlite")
        let targetDomain = setup.targetDomain ?? defaultTargetDomain(for: snapshot)
        let parameters = launcher.parameters(setup.parameters)

        // Validate and plan everything before the fake tenant (the target) is even opened: a new fake gets its id now.
        let identity: (tenantID: String, initialDomain: String)?
        do {
            identity = try FakeTenant.identity(stateFile: fakePath)
        } catch {
            printError("lifeboat: cannot open the fake tenant state \(fakePath): \(error)")
            throw ExitStatus.invalidInput
        }
        let tenantID = identity?.tenantID ?? UUID().uuidString.lowercased()
        let initialDomain = identity?.initialDomain ?? targetDomain.lowercased()
        let loaded = try loadRunbook(
            setup.runbookPath, parameters: parameters,
            builtins: builtins(snapshot: snapshot, targetDomain: initialDomain, targetTenantID: tenantID),
            snapshotPath: setup.snapshotPath)
        let runbook = TabletopSession.runbook(loaded, for: setup.scenario)
        // A new rehearsal starts with the readiness verdict (what it cannot show working on the day), assessed while the stages are planned.
        async let verdict = existing == nil ? Readiness.assess(Readiness.Input(snapshot: snapshot, runbook: loaded)) : nil
        // A resume with the runbook and parameters it started with (the snapshot is checked by its manifest) plans each
        // stage when it reaches it, and not at all the stages the checkpoint already holds: they were all validated and
        // planned before the run's first write. A scenario or an operator at the prompt needs every stage's size first.
        let planWhenReached =
            existing.map { $0.record.runbookSHA256 == runbook.sha256 && $0.record.parameters == parameters } == true
            && setup.scenario == nil && !setup.promptAtGates
        let prepared = planWhenReached ? nil : PlannedStages(try prepare(runbook, snapshot: snapshot))
        do {
            try setup.scenario?.validate(against: loaded)
            try setup.scenario?.validate(against: snapshot)
        } catch {
            printError("lifeboat: the scenario is not valid:\n\(error)")
            throw ExitStatus.invalidInput
        }
        let readiness = await verdict
        if let readiness {
            print(readiness.text(objectsShown: 3) + "\n")
            fflush(nil)  // before the progress lines on standard error, also when both go to one file
        }

        let profileName = setup.profile ?? existing?.record.profile ?? "realistic"
        let profile: FakeTenantProfile
        do {
            profile = TabletopSession.profile(try FakeTenantProfile.named(profileName), for: setup.scenario)
        } catch {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        // Simulated time continues where the interrupted run left it.
        clock.advance(by: try await store.lastSimulatedSeconds() ?? 0)
        let tenant: FakeTenant
        do {
            if let opening, opening.path == fakePath, opening.profile == profile.name {
                tenant = try await opening.tenant.value
            } else {
                tenant = try FakeTenant(
                    stateFile: fakePath, tenantID: tenantID, initialDomain: initialDomain, profile: profile, clock: { clock.instant },
                    defersCommits: true)
            }
        } catch {
            printError("lifeboat: cannot open the fake tenant state \(fakePath): \(error)")
            throw ExitStatus.invalidInput
        }
        let apps = setup.apps ?? existing?.record.apps ?? 1
        let plannedCounts: [(String, Int)]
        if let prepared {
            plannedCounts = prepared.counts.map { ($0.stageID, $0.operations) }
        } else {
            // Only a scenario's triggers and the prompt's kills read these (neither is in play here): the checkpoint's counts.
            let counts = try await store.operationCountsByStage()
            plannedCounts = runbook.stages.map { ($0.id, counts[$0.id]?.values.reduce(0, +) ?? 0) }
        }
        let session = TabletopSession(
            scenario: setup.scenario, store: store, clock: clock, tenant: tenant, snapshot: snapshot,
            planned: plannedCounts, apps: apps)
        // One app registration per --apps, paced by the window governor and the endpoint limits as a rebuild is.
        let graph = session.graphClient(dropResponses: setup.dropResponseEvery.map { DroppedResponses(every: $0) })
        var options = ExecutorOptions(outputDirectory: URL(fileURLWithPath: setup.statePath).deletingLastPathComponent())
        options.concurrency = setup.concurrency
        options.gates = setup.pauseAtGates ? .pause : .autoApprove(by: "\(setup.operatorName) (tabletop auto-approval)")
        options.crash = setup.crash
        options.planStagesWhenReached = prepared == nil
        let stop = StopRequest()
        options.stop = stop
        options.commitTarget = { try await tenant.commit() }
        if setup.promptAtGates { options.gateDecider = GateConsole(session: session, operatorName: setup.operatorName) }
        var request = RunLaunchRequest(
            runbook: runbook, runbookPath: setup.runbookPath, snapshot: snapshot, snapshotPath: setup.snapshotPath,
            parameters: parameters,
            target: RunTarget(
                description: "fake tenant \(tenant.initialDomain) (\(fakePath))", tenantID: tenant.tenantID,
                fakeStatePath: fakePath),
            graph: graph, executor: options, operatorName: setup.operatorName, toolVersion: LifeboatVersion.current)
        request.prepared = prepared
        request.observer = session.observer(wrapping: ProgressPrinter())
        request.simulatedClock = clock
        request.simulatedEpoch = VirtualClock.epoch
        request.host = host
        request.profile = profile.name
        request.scenarioPath = setup.scenario?.file
        request.apps = apps
        if launcher.isNewRun {
            request.inputs =
                [SnapshotSignatureStatement(SnapshotSignature.custodyStatement(directory: snapshot.directory, verifiedKey: nil))]
                + (readiness.map { [$0] } ?? [])
        }
        guard
            let run = try await launch(
                launcher, request,
                started: {
                    "Tabletop run \($0.record.id): \(runbook.name) → fake tenant \(tenant.initialDomain) (profile \(profile.name))"
                },
                resumed: { "Resuming run \($0.record.id) (\($0.record.runbookName)) against fake tenant \(tenant.initialDomain)" })
        else { return }
        try await session.begin(isNewRun: launcher.isNewRun, runbook: runbook)
        try await preflight(
            runbook, snapshot: snapshot, graph: graph, granted: tenant.grantedPermissions, store: store, isNewRun: launcher.isNewRun)

        let interrupt = InterruptHandler(stop)
        defer { interrupt.cancel() }
        let outcome = try await run.executor.run()
        try await tenant.commit()
        await session.finish()
        let throttling = await tenant.throttlingCounts
        print(
            "Simulated time: \(DurationText.format(clock.elapsed))"
                + (runbook.objective.map {
                    " (objective \(DurationText.format($0)): \(clock.elapsed <= $0 ? "met" : "missed"))"
                } ?? "") + "; \(throttling.throttled) of \(throttling.throttled + throttling.admitted) requests throttled in this session.")
        if let estimate = try? await RTOEstimate.read(from: store) { print(estimate.summaryLines.joined(separator: "\n")) }
        let writeUnits = await tenant.admittedWriteUnits
        if let bound = profile.throttling.writeTimeLowerBound(writes: writeUnits, apps: apps),
            let rate = profile.throttling.sustainedWritesPerSecond(apps: apps), bound > 0
        {
            let waited = clock.waited[.throttling] ?? 0
            print(
                "Throttling: \(DurationText.format(waited)) simulated waiting for Graph's quotas; lower bound \(writeUnits) write units ÷ \(String(format: "%g", rate))/s = "
                    + "\(DurationText.format(bound)) (\(String(format: "%+.1f", (waited / bound - 1) * 100)) %).")
        }
        try await finish(outcome, store: store, statePath: setup.statePath)
    }

    /// Starts opening the fake tenant of an unfinished tabletop run found in `setup.statePath` (under the run's lock), so
    /// that it loads while the snapshot does; `nil` when there is none to resume (the caller then opens it as for a new run).
    static func openingTenant(_ setup: TabletopSetup, clock: VirtualClock) async throws -> (
        path: String, profile: String, tenant: Task<FakeTenant, any Error>
    )? {
        guard InputFile.isNonEmptyRegularFile(setup.statePath), let store = try? CheckpointStore(readingOnly: setup.statePath),
            let found = try? await store.runRecord(), found.status != .done, found.record.mode == .tabletop
        else { return nil }
        let path = setup.fakeStatePath ?? found.record.fakeStatePath ?? (setup.statePath + ".fake-tenant.sqlite")
        guard InputFile.isNonEmptyRegularFile(path), let identity = try? FakeTenant.identity(stateFile: path),
            let named = try? FakeTenantProfile.named(setup.profile ?? found.record.profile ?? "realistic")
        else { return nil }
        let profile = TabletopSession.profile(named, for: setup.scenario)
        try lockRun(setup.statePath)  // the run's lock is held before its target is opened
        return (
            path, profile.name,
            Task.detached {
                try FakeTenant(
                    stateFile: path, tenantID: identity.tenantID, initialDomain: identity.initialDomain, profile: profile,
                    clock: { clock.instant },
                    defersCommits: true)
            }
        )
    }

    /// Prints how the run ended and exits with the matching code.
    static func finish(_ outcome: RunOutcome, store: CheckpointStore, statePath: String, resume: String? = nil) async throws {
        let resume = resume ?? "lifeboat resume --state \(statePath)"
        switch outcome {
        case .completed:
            let totals = try await store.totals()
            print("Run complete: \(totals.idMap) objects in the ID map, \(totals.followUps) follow-ups.")
            print("  lifeboat status --state \(statePath)      # what was done")
            print("  lifeboat idmap --state \(statePath) --format csv")
        case .pausedAtGate(let stageID, _):
            print("Paused at gate \(stageID). When its instructions are done:")
            print("  lifeboat approve --state \(statePath) --gate \(stageID) --by \"YOUR NAME\"")
            print("  \(resume)")
            throw ExitStatus.pausedAtGate
        case .failed(let stageID, let count):
            printError(
                "Stage \(stageID) has \(count) failed operations; `lifeboat status --state \(statePath)` lists them with Graph's error codes."
            )
            printError("Fix the cause, then `\(resume)` retries them.")
            throw ExitStatus.failed
        case .stopped(let stageID):
            printError(
                "Stopped cleanly\(stageID.map { " during stage \($0)" } ?? ""): no write is in flight, every finished operation is checkpointed."
            )
            printError("To go on: \(resume)")
            throw ExitStatus.stopped
        }
    }
}
