import ArgumentParser
import Foundation
import LifeboatCurl
import LifeboatEngine
import LifeboatGraph
import LifeboatJSON
import LifeboatReport

/// `lifeboat tabletop`: rehearse a runbook against a fake tenant.
struct Tabletop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rehearse a runbook against a fake tenant (in process, persisted next to --state).",
        discussion: "Running the same command again with the same --state resumes the run; a finished run does nothing.")

    @OptionGroup var runbook: RunbookOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var served: RehearsalConnectionOptions

    @Option(help: "The fake tenant's state file (default: <state>.fake-tenant.sqlite).")
    var fakeState: String?

    @Option(help: "The fake tenant's initial domain (default: derived from the snapshot, e.g. contosodr.onmicrosoft.com).")
    var targetDomain: String?

    @Option(help: "Writes in flight at once.")
    var concurrency: Int = 8

    @Option(help: "The fake tenant's behaviour: a shipped profile (fast, realistic, chaos) or a profile YAML file (default: realistic).")
    var profile: String?

    @Flag(help: "Stop at every gate instead of approving it automatically.")
    var pauseAtGates = false

    @Option(help: "Who is running the exercise (default: $USER).")
    var operatorName: String?

    @Option(help: "Also write the post-incident report to this file when the run stops; .md, .html or .json chooses the format.")
    var report: String?

    @Option(help: .hidden)
    var simulateCrash: String?

    @Option(help: .hidden)
    var dropResponseEvery: Int?

    func validate() throws {
        guard concurrency >= 1, concurrency <= 64 else { throw ValidationError("--concurrency must be between 1 and 64") }
        if let report, ReportFormat(fileExtension: report) == nil {
            throw ValidationError("--report must end in .md, .html or .json (the extension chooses the format)")
        }
        if let simulateCrash, SimulatedCrash(simulateCrash) == nil {
            throw ValidationError("--simulate-crash expects intent|response|result:COUNT[@stage]")
        }
        if served.graphURL != nil, fakeState != nil || targetDomain != nil || profile != nil || simulateCrash != nil || dropResponseEvery != nil {
            throw ValidationError("--fake-state, --target-domain and --profile configure the in-process fake; with --graph-url the served fake has its own (set them on `fake-tenant serve`)")
        }
    }

    func run() async throws {
        let parameters = try runbook.parameterValues()
        // A run that pauses or stops with failures still gets its report; invalid input wrote nothing to report on.
        var stopped: ExitCode?
        do {
            if served.graphURL != nil {
                try await runServed(parameters: parameters)
            } else {
            try await RunSession.runTabletop(TabletopSetup(
                runbookPath: runbook.runbook, snapshotPath: runbook.snapshot, statePath: state.state, fakeStatePath: fakeState,
                parameters: parameters, targetDomain: targetDomain, concurrency: concurrency, pauseAtGates: pauseAtGates,
                operatorName: operatorName ?? RunSession.operatorName, crash: simulateCrash.flatMap(SimulatedCrash.init),
                dropResponseEvery: dropResponseEvery, profile: profile))
            }
        } catch let code as ExitCode where report != nil && code != ExitStatus.invalidInput {
            stopped = code
        }
        if let report, let format = ReportFormat(fileExtension: report) {
            try await ReportWriter.write(store: try openExisting(state.state), format: format, to: report, templateDirectory: nil)
            print("Report: \(report)")
        }
        if let stopped { throw stopped }
    }
}

extension Tabletop {
    /// The rehearsal over HTTP: the same Graph client, transport and checkpoints as a live rebuild, against a served fake.
    func runServed(parameters: [String: String]) async throws {
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
        try await RunSession.runRemote(RemoteRunSetup(
            runbookPath: runbook.runbook, snapshotPath: runbook.snapshot, statePath: state.state, parameters: parameters, mode: .tabletop,
            expectedTenant: tenant, confirmation: nil, concurrency: concurrency, pauseAtGates: pauseAtGates,
            operatorName: operatorName ?? RunSession.operatorName, graphRoot: served.graphURL!,
            makeClient: { try served.graphClient(tenant: tenant) }))
    }
}

/// The operator API of `lifeboat fake-tenant serve`.
enum ServedFake {
    /// The served tenant's id, from `/_lifeboat/health`.
    static func tenantID(at root: String) async throws -> String {
        let transport = try CurlTransport(configuration: .init())
        let url = (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/_lifeboat/health"
        let response = try await transport.send(HTTPRequest(method: "GET", url: url, timeout: 10))
        guard response.status == 200, let id = (try? JSONCoding.decode(response.body))?["tenantId"]?.stringValue else {
            throw CredentialError("\(url) answered \(response.status); is `lifeboat fake-tenant serve` running there?")
        }
        return id
    }
}

/// `lifeboat resume`: continue the run held in a state database.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue an interrupted or paused run from its checkpoint database.")

    @OptionGroup var state: StateOptions

    @Flag(help: "Stop at every gate instead of approving it automatically (tabletop).")
    var pauseAtGates = false

    @Option(help: "Who is resuming (default: $USER).")
    var operatorName: String?

    @Option(help: .hidden)
    var simulateCrash: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: state.state) else {
            printError("lifeboat: \(state.state) does not exist; start a run with `lifeboat tabletop`")
            throw ExitStatus.invalidInput
        }
        let store: CheckpointStore
        do {
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
            printError("lifeboat: \(state.state) holds a \(record.mode.rawValue) run against \(record.target); run the same `lifeboat \(command)` command again (same --state and credentials): it resumes")
            throw ExitStatus.invalidInput
        }
        // A paused run resumes with the gate policy it was started with, unless told otherwise.
        let wasPaused = existing.status == .waiting
        try await RunSession.runTabletop(TabletopSetup(
            runbookPath: record.runbookPath, snapshotPath: record.snapshotPath, statePath: state.state, fakeStatePath: record.fakeStatePath,
            parameters: record.parameters, targetDomain: nil, concurrency: record.concurrency, pauseAtGates: pauseAtGates || wasPaused,
            operatorName: operatorName ?? RunSession.operatorName, crash: simulateCrash.flatMap(SimulatedCrash.init), dropResponseEvery: nil,
            profile: record.profile))
    }
}
