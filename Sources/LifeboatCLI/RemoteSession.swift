import ArgumentParser
import Dispatch
import Foundation
import LifeboatCapture
import LifeboatEngine
import LifeboatGraph
import LifeboatJSON
import LifeboatReadiness
import LifeboatRunbook
import LifeboatSnapshot

#if canImport(Glibc)
    import Glibc
#endif

/// A run whose target is reached over HTTPS: a live rebuild, its dry run, or a rehearsal against a
/// `lifeboat fake-tenant serve` (`tabletop --graph-url`).
struct RemoteRunSetup {
    var runbookPath: String
    var snapshotPath: String
    var statePath: String
    var parameters: [String: String]
    /// `.live`, `.dryRun`, or `.tabletop` for a served fake.
    var mode: RunMode
    /// The tenant the operator named (`--tenant`): its id or one of its domains.
    var expectedTenant: String
    /// The initial domain typed ahead (`--confirm`); asked for on a terminal when absent.
    var confirmation: String?
    var concurrency: Int
    var pauseAtGates: Bool
    var operatorName: String
    /// The Graph root, for the run record.
    var graphRoot: String
    /// Checks run on the snapshot before any request (signature verification); returns what the chain of custody says
    /// about the signature.
    var checkSnapshot: (Snapshot) throws -> String = { SnapshotSignature.custodyStatement(directory: $0.directory, verifiedKey: nil) }
    /// Builds the signed-in client; called only after the runbook and snapshot are valid.
    var makeClient: () throws -> GraphClient
}

extension RunSession {
    /// Validates everything offline, identifies the target, applies the safety rails, then runs or resumes.
    static func runRemote(_ setup: RemoteRunSetup) async throws {
        let snapshot = try await loadSnapshotConcurrently(setup.snapshotPath)
        let signature: String
        do {
            signature = try setup.checkSnapshot(snapshot)
        } catch {
            printError("lifeboat: the snapshot was refused: \(error)")
            throw ExitStatus.invalidInput
        }
        let launcher = try await openRun(setup.statePath, mode: setup.mode, snapshot: snapshot)
        let parameters = launcher.parameters(setup.parameters)

        // Everything that can be checked without the target is checked before the first request; the
        // target's own values are not known yet, so placeholders of the right shape stand in for them.
        let probe = try loadRunbook(
            setup.runbookPath, parameters: parameters,
            builtins: builtins(
                snapshot: snapshot, targetDomain: "target-not-yet-read.onmicrosoft.com",
                targetTenantID: "00000000-0000-0000-0000-000000000000"),
            snapshotPath: setup.snapshotPath)
        try prepare(probe, snapshot: snapshot)

        let graph: GraphClient
        do {
            graph = try setup.makeClient()
        } catch {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        let target: TargetTenant
        do {
            target = try await TargetTenant.identify(through: graph)
            try target.check(named: setup.expectedTenant)
        } catch let error as TargetTenantError {
            printError("lifeboat: refusing to run: \(error); nothing was written")
            throw ExitStatus.invalidInput
        } catch {
            printError("lifeboat: cannot identify the target tenant: \(error)\nNothing was written.")
            // A refused sign-in (wrong tenant, client id or credential) is bad input; an unreachable service is not.
            if let refusal = error as? GraphError, (400..<500).contains(refusal.status) { throw ExitStatus.invalidInput }
            throw ExitStatus.failed
        }
        do {
            try launcher.checkTarget(tenantID: target.id)
        } catch {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        try checkSourceTenantRule(target: target, snapshot: snapshot, runbook: probe)
        print("Target: \(target.displayName ?? "tenant") \(target.id) (\(target.initialDomain)) at \(setup.graphRoot)")
        if setup.mode == .live { try confirm(target: target, typed: setup.confirmation) }

        let runbook = try loadRunbook(
            setup.runbookPath, parameters: parameters,
            builtins: builtins(snapshot: snapshot, targetDomain: target.initialDomain, targetTenantID: target.id),
            snapshotPath: setup.snapshotPath)
        var options = ExecutorOptions(outputDirectory: URL(fileURLWithPath: setup.statePath).deletingLastPathComponent())
        options.concurrency = setup.concurrency
        options.gates =
            setup.mode == .tabletop && !setup.pauseAtGates ? .autoApprove(by: "\(setup.operatorName) (tabletop auto-approval)") : .pause
        let stop = StopRequest()
        options.stop = stop
        var request = RunLaunchRequest(
            runbook: runbook, runbookPath: setup.runbookPath, snapshot: snapshot, snapshotPath: setup.snapshotPath,
            parameters: parameters,
            target: RunTarget(description: "tenant \(target.initialDomain) (\(target.id)) via \(setup.graphRoot)", tenantID: target.id),
            graph: graph, executor: options, operatorName: setup.operatorName, toolVersion: LifeboatVersion.current)
        request.observer = ProgressPrinter()
        request.host = host
        // What this backup cannot bring back goes into the run's record, so the post-incident report lists it with the fixes.
        let readiness = launcher.isNewRun ? Readiness.assess(Readiness.Input(snapshot: snapshot, runbook: runbook)) : nil
        request.inputs = [SnapshotSignatureStatement(signature)] + (readiness.map { [$0] } ?? [])
        let kind = setup.mode == .dryRun ? "Dry run" : setup.mode == .live ? "Live rebuild" : "Rehearsal"
        guard
            let run = try await launch(
                launcher, request,
                started: { started in
                    (readiness.map { "Readiness: \($0.tally) (in the report; `lifeboat readiness` prints each finding)\n" } ?? "")
                        + "\(kind) \(started.record.id): \(runbook.name) → \(target.initialDomain)"
                }, resumed: { "Resuming \(setup.mode.rawValue) run \($0.record.id) (\($0.record.runbookName))" })
        else { return }

        try await preflight(
            runbook, snapshot: snapshot, graph: graph, granted: await grantedPermissions(graph), store: launcher.store,
            isNewRun: launcher.isNewRun)

        let interrupt = InterruptHandler(stop)
        defer { interrupt.cancel() }
        let outcome = try await run.executor.run()
        if setup.mode == .dryRun, outcome == .completed {
            try await printDryRunPlan(store: launcher.store)
            return
        }
        // Credentials are not kept in the checkpoint, so the same command line (with the confirmation) resumes.
        try await finish(
            outcome, store: launcher.store, statePath: setup.statePath,
            resume: resumeCommand(confirmation: setup.mode == .live ? target.initialDomain : nil))
    }

    /// Takes the run's lock for the life of this process (one process per run), or exits 2 naming the holder.
    static func lockRun(_ statePath: String) throws {
        do {
            try RunLocks.shared.take(statePath)
        } catch let failure as CheckpointLock.Failure {
            printError("lifeboat: \(failure)")
            throw ExitStatus.invalidInput
        }
    }

    /// A rebuild never writes into the tenant the snapshot came from, and an in-place restore only into it.
    static func checkSourceTenantRule(target: TargetTenant, snapshot: Snapshot, runbook: Runbook) throws {
        let source = snapshot.manifest.sourceTenantId.lowercased()
        if target.id == source, !runbook.restoresInPlace {
            printError(
                """
                lifeboat: refusing to run: the target \(target.id) is the snapshot's own source tenant, and \(runbook.name) rebuilds \
                into a new tenant (it would recreate objects next to the originals). Use an in-place runbook such as \
                Runbooks/restore-in-place.yaml, or target the recovery tenant. Nothing was written.
                """)
            throw ExitStatus.invalidInput
        }
        if target.id != source, runbook.restoresInPlace {
            printError(
                """
                lifeboat: refusing to run: \(runbook.name) restores in place (recycle bin, original ids), but the target \(target.id) \
                is not the snapshot's source tenant \(source). Use a rebuild runbook such as Runbooks/rebuild-new-tenant.yaml. \
                Nothing was written.
                """)
            throw ExitStatus.invalidInput
        }
    }

    /// The operator types the target's initial domain (or passed it as `--confirm`).
    static func confirm(target: TargetTenant, typed: String?) throws {
        var answer = typed
        if answer == nil {
            guard isatty(STDIN_FILENO) == 1 else {
                printError(
                    "lifeboat: a live rebuild writes to \(target.initialDomain); confirm with --confirm \(target.initialDomain). Nothing was written."
                )
                throw ExitStatus.invalidInput
            }
            FileHandle.standardOutput.write(
                Data("This writes to tenant \(target.initialDomain) (\(target.id)). Type its initial domain to go on: ".utf8))
            answer = readLine()
        }
        guard let answer, answer.trimmingCharacters(in: .whitespaces).lowercased() == target.initialDomain else {
            printError(
                "lifeboat: the confirmation \"\(answer ?? "")\" is not the target's initial domain \(target.initialDomain); nothing was written"
            )
            throw ExitStatus.invalidInput
        }
    }

    /// What a finished dry run found: per stage, objects already in the target and writes it would send.
    static func printDryRunPlan(store: CheckpointStore) async throws {
        print("Dry run complete: nothing was written. Per stage, found in the target / would write:")
        for stage in try await store.stages() {
            let counts = try await store.operationCounts(stageID: stage.id)
            let found = counts[.done, default: 0], wouldWrite = counts[.skipped, default: 0]
            print(
                "  \(stage.id.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%6d", found)) found  \(String(format: "%6d", wouldWrite)) would write"
            )
        }
        print("Details: lifeboat status --state <this state> --verbose, or lifeboat report.")
    }

    /// The command line that resumes this run: the same arguments, with the confirmation if it was typed.
    static func resumeCommand(confirmation: String?) -> String {
        var arguments = CommandLine.arguments
        arguments[0] = "lifeboat"
        if let confirmation, !arguments.contains("--confirm") { arguments += ["--confirm", confirmation] }
        return arguments.map { argument in
            argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@,".contains($0) }
                ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

/// Turns the first Ctrl-C into a request to stop at the next operation boundary; a second one quits at once
/// (the checkpoint still holds every intent, so even that resumes without duplicates).
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(_ stop: StopRequest) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if stop.request() {
                printError("\nlifeboat: stopping at the next operation boundary (Ctrl-C again quits at once; the run resumes either way)")
            } else {
                exit(130)
            }
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
