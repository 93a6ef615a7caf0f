import ArgumentParser
import Foundation
import LifeboatCurl
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatReport
import LifeboatTabletop

#if canImport(Glibc)
    import Glibc
#endif

/// `lifeboat tabletop`: rehearse a runbook against a fake tenant.
struct Tabletop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rehearse a runbook against a fake tenant (in process, persisted next to --state).",
        discussion: """
            Running the same command again with the same --state resumes the run; a finished run does nothing.
            With --scenario, the runbook, snapshot (or generated tenant), profile, gate durations and injected events come
            from a scenario file (Runbooks/scenarios/). --scale and --apps compare the recovery time at other sizes and app counts.
            """)

    @OptionGroup var served: RehearsalConnectionOptions

    @Option(help: "A scenario file (YAML): runbook, snapshot or generated tenant, profile, injected events, gate durations.")
    var scenario: String?

    @Option(help: "The runbook (YAML); with --scenario, overrides the scenario's.")
    var runbook: String?

    @Option(help: "The snapshot directory; with --scenario, overrides the scenario's.")
    var snapshot: String?

    @Option(name: .customLong("param"), help: ArgumentHelp("A runbook parameter as NAME=VALUE (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    @Option(
        name: .customLong("params"),
        help: ArgumentHelp(
            "A parameters file (YAML, NAME: VALUE per line); --param values win over it. "
                + "Without it, parameters.yaml next to the snapshot is read.", valueName: "file"))
    var parametersFile: String?

    @Option(
        help:
            "The checkpoint database (SQLite); the same --state resumes the same run (default with --scenario: drill/<scenario name>.sqlite)."
    )
    var state: String?

    @Option(help: "What-if: also rehearse against a generated tenant this many times the size (e.g. 10x) and compare the recovery times.")
    var scale: String?

    @Option(help: "What-if: also rehearse with N app registrations sharing the work (Graph's quotas are per app) and compare.")
    var apps: Int?

    @Option(help: "The fake tenant's state file (default: <state>.fake-tenant.sqlite).")
    var fakeState: String?

    @Option(help: "The fake tenant's initial domain (default: derived from the snapshot, e.g. contosodr.onmicrosoft.com).")
    var targetDomain: String?

    @Option(help: "Writes in flight at once.")
    var concurrency: Int = 8

    @Option(help: "The fake tenant's behaviour: a shipped profile (fast, realistic, chaos) or a profile YAML file (default: realistic).")
    var profile: String?

    @Flag(
        help:
            "Stop at every gate: on a terminal, decide at a prompt (approve, inject a fault, skip the clock ahead); otherwise pause (exit 3)."
    )
    var pauseAtGates = false

    /// Read gate decisions from standard input even when it is not a terminal (tests, scripted exercises).
    @Flag(help: .hidden)
    var promptFromStdin = false

    @Option(help: "Who is running the exercise (default: $USER).")
    var operatorName: String?

    @Option(help: "Also write the post-incident report to this file when the run stops; .md, .html or .json chooses the format.")
    var report: String?

    @Option(help: .hidden)
    var simulateCrash: String?

    @Option(help: .hidden)
    var dropResponseEvery: Int?

    func validate() throws {
        if scenario == nil {
            guard runbook != nil, snapshot != nil else { throw ValidationError("give --runbook and --snapshot, or --scenario") }
            guard state != nil else { throw ValidationError("--state is required without --scenario") }
        }
        if let scale, WhatIf.factor(scale) == nil { throw ValidationError("--scale expects a factor from 2x to 1000x, e.g. 10x") }
        if let apps, !(1...64).contains(apps) { throw ValidationError("--apps must be between 1 and 64") }
        guard concurrency >= 1, concurrency <= 64 else { throw ValidationError("--concurrency must be between 1 and 64") }
        if let report, ReportFormat(fileExtension: report) == nil {
            throw ValidationError("--report must end in .md, .html or .json (the extension chooses the format)")
        }
        if let simulateCrash, SimulatedCrash(simulateCrash) == nil {
            throw ValidationError("--simulate-crash expects intent|response|result:COUNT[@stage]")
        }
        if served.graphURL != nil, scenario != nil || scale != nil || apps != nil {
            throw ValidationError("--scenario, --scale and --apps rehearse in process; they do not combine with --graph-url")
        }
        if served.graphURL != nil,
            fakeState != nil || targetDomain != nil || profile != nil || simulateCrash != nil || dropResponseEvery != nil
        {
            throw ValidationError(
                "--fake-state, --target-domain and --profile configure the in-process fake; with --graph-url the served fake has its own (set them on `fake-tenant serve`)"
            )
        }
    }

    func run() async throws {
        let inputs = try TabletopInputs.resolve(
            scenario: scenario, runbook: runbook, snapshot: snapshot, state: state,
            parameters: RunbookOptions.parse(parameters, file: parametersFile))
        if scale != nil || apps != nil {
            try await TabletopInputs.whatIf(
                inputs, scale: scale.flatMap(WhatIf.factor), apps: apps, profile: profile, concurrency: concurrency,
                operatorName: operatorName ?? RunSession.operatorName)
            return
        }
        // A run that pauses or stops with failures still gets its report; invalid input wrote nothing to report on.
        var stopped: ExitCode?
        do {
            if served.graphURL != nil {
                try await runServed(inputs)
            } else {
                try await RunSession.runTabletop(
                    TabletopSetup(
                        runbookPath: inputs.runbookPath, snapshotPath: inputs.snapshotPath, statePath: inputs.statePath,
                        fakeStatePath: fakeState,
                        parameters: inputs.parameters, targetDomain: targetDomain ?? inputs.targetDomain, concurrency: concurrency,
                        pauseAtGates: pauseAtGates,
                        operatorName: operatorName ?? RunSession.operatorName, crash: simulateCrash.flatMap(SimulatedCrash.init),
                        dropResponseEvery: dropResponseEvery, profile: profile ?? inputs.scenario?.profile, scenario: inputs.scenario,
                        apps: inputs.scenario?.apps, promptAtGates: pauseAtGates && (promptFromStdin || isatty(STDIN_FILENO) == 1)))
            }
        } catch let code as ExitCode where report != nil && code != ExitStatus.invalidInput {
            stopped = code
        }
        if let report, let format = ReportFormat(fileExtension: report) {
            try await ReportWriter.write(store: try openExisting(inputs.statePath), format: format, to: report, templateDirectory: nil)
            print("Report: \(report)")
        }
        if let stopped { throw stopped }
    }
}

extension Tabletop {
    /// The rehearsal over HTTP: the same Graph client, transport and checkpoints as a live rebuild, against a served fake.
    func runServed(_ inputs: TabletopInputs) async throws {
        let served = self.served
        let tenant: String
        if let named = served.tenant {
            tenant = named
        } else {
            do {
                tenant = try await ServedFake.tenantID(at: served.graphURL!)
            } catch {
                printError("lifeboat: \(error); pass --tenant (printed by `lifeboat fake-tenant serve`)")
                throw ExitStatus.invalidInput
            }
        }
        try await RunSession.runRemote(
            RemoteRunSetup(
                runbookPath: inputs.runbookPath, snapshotPath: inputs.snapshotPath, statePath: inputs.statePath,
                parameters: inputs.parameters, mode: .tabletop,
                expectedTenant: tenant, confirmation: nil, concurrency: concurrency, pauseAtGates: pauseAtGates,
                operatorName: operatorName ?? RunSession.operatorName, graphRoot: served.graphURL!,
                makeClient: { try served.graphClient(tenant: tenant) }))
    }
}

/// The operator API of `lifeboat fake-tenant serve` (`/_lifeboat/…`; every endpoint but `health` needs the server's token).
enum ServedFake {
    /// Calls one operator endpoint of the fake served at `root` and returns its JSON answer; `token` is the server's
    /// operator token (see ``operatorToken(root:file:)``).
    static func call(root: String, _ method: String, _ endpoint: String, body: JSONObject? = nil, token: String? = nil) async throws
        -> JSONObject
    {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        let transport = try CurlTransport(configuration: .init())
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await transport.send(
            HTTPRequest(
                method: method, url: base + "/_lifeboat/" + endpoint, headers: headers,
                body: try body.map { try JSONCoding.encode(JSONValue.object($0)) }, timeout: 30))
        let answer = (try? JSONCoding.decode(response.body))?.objectValue ?? [:]
        guard (200..<300).contains(response.status) else {
            throw FakeTenantOperatorError(
                answer["error"]?["message"]?.stringValue
                    ?? "\(base)/_lifeboat/\(endpoint) answered \(response.status); is `lifeboat fake-tenant serve` running there?")
        }
        return answer
    }

    /// The served fake's operator token: from `file` when given, otherwise from the file `/_lifeboat/health` names (a
    /// 0600 file of the user who started `serve`; another user cannot read it).
    static func operatorToken(root: String, file: String?) async throws -> String {
        var path = file
        if path == nil {
            path = try await call(root: root, "GET", "health")["operatorTokenFile"]?.stringValue
        }
        guard let path else {
            throw FakeTenantOperatorError(
                "\(root) names no operator-token file; pass --operator-token-file (the file `lifeboat fake-tenant serve` printed)")
        }
        let data: Data
        do {
            data = try InputFile.read(path, limit: 4096)
        } catch {
            throw FakeTenantOperatorError("cannot read the operator token: \(error)")
        }
        guard let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw FakeTenantOperatorError("\(path) holds no operator token")
        }
        return token
    }

    /// The served tenant's id, from `/_lifeboat/health`.
    static func tenantID(at root: String) async throws -> String {
        guard let id = try await call(root: root, "GET", "health")["tenantId"]?.stringValue else {
            throw FakeTenantOperatorError("\(root)/_lifeboat/health names no tenant; is `lifeboat fake-tenant serve` running there?")
        }
        return id
    }
}

/// `lifeboat resume`: continue the run held in a state database.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue an interrupted or paused run from its checkpoint database.")

    @OptionGroup var state: StateOptions

    @Flag(help: "Stop at every gate instead of approving it automatically (tabletop; on a terminal, decide at a prompt).")
    var pauseAtGates = false

    @Flag(help: .hidden)
    var promptFromStdin = false

    @Option(help: "Who is resuming (default: $USER).")
    var operatorName: String?

    @Option(help: .hidden)
    var simulateCrash: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: state.state) else {
            printError("lifeboat: \(state.state) does not exist; start a run with `lifeboat tabletop`")
            throw ExitStatus.invalidInput
        }
        if let kind = InputFile.nonRegularKind(state.state) {
            printError("lifeboat: \(state.state) is \(kind), not a checkpoint database")
            throw ExitStatus.invalidInput
        }
        try RunSession.lockRun(state.state)
        let store: CheckpointStore
        do {
            _ = try CheckpointStore(readingOnly: state.state)  // a foreign file is refused before it is opened for writing
            store = try CheckpointStore(path: state.state)
        } catch {
            printError("lifeboat: cannot open the state database: \(error)")
            throw ExitStatus.invalidInput
        }
        guard let existing = try await store.runRecord() else {
            printError("lifeboat: \(state.state) holds no run; start one with `lifeboat tabletop`")
            throw ExitStatus.invalidInput
        }
        let record = existing.record
        guard record.mode == .tabletop, record.fakeStatePath != nil else {
            // Credentials are never stored, so runs over HTTP resume by running their command again.
            let command = record.mode == .tabletop ? "tabletop --graph-url" : "rebuild"
            printError(
                "lifeboat: \(state.state) holds a \(record.mode.rawValue) run against \(record.target); run the same `lifeboat \(command)` command again (same --state and credentials): it resumes"
            )
            throw ExitStatus.invalidInput
        }
        // A paused run resumes with the gate policy it was started with, unless told otherwise.
        let wasPaused = existing.status == .waiting
        // A scenario's later events (a storm, DNS records, the downtime after a kill) still happen after a resume.
        let scenario = try record.scenarioPath.map(TabletopInputs.loadScenario)
        try await RunSession.runTabletop(
            TabletopSetup(
                runbookPath: record.runbookPath, snapshotPath: record.snapshotPath, statePath: state.state,
                fakeStatePath: record.fakeStatePath,
                parameters: record.parameters, targetDomain: nil, concurrency: record.concurrency, pauseAtGates: pauseAtGates || wasPaused,
                operatorName: operatorName ?? RunSession.operatorName, crash: simulateCrash.flatMap(SimulatedCrash.init),
                dropResponseEvery: nil,
                profile: record.profile, scenario: scenario, apps: record.apps,
                promptAtGates: (pauseAtGates || wasPaused) && (promptFromStdin || isatty(STDIN_FILENO) == 1)))
    }
}
