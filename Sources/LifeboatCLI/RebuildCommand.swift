import ArgumentParser
import Foundation
import LifeboatCapture
import LifeboatEngine
import LifeboatGraph
import LifeboatReport
import Logging

/// `lifeboat rebuild`: a live rebuild (or restore in place) through Microsoft Graph.
struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild into a real tenant through Microsoft Graph (or plan it with --dry-run), checkpointed in --state.",
        discussion: """
            Before the first request, the runbook and the snapshot are validated and every stage is planned. Then Lifeboat
            signs in, reads the organization and refuses to go on unless: the access token's tenant, the organization and
            --tenant agree; the target is not the snapshot's own source tenant (unless the runbook restores in place, which
            must target it); and you confirm by typing the target's initial domain (or pass --confirm DOMAIN).
            Gates stop the run (exit 3): do what the gate says, `lifeboat approve`, then run the same command again.
            Ctrl-C stops at the next operation boundary (exit 130); the same command resumes. Secrets are read from an
            environment variable or a file, never from the command line.
            """)

    @OptionGroup var runbook: RunbookOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var connection: GraphConnectionOptions

    @Option(help: ArgumentHelp("The target's initial domain, typed ahead to confirm a live run without a prompt.", valueName: "domain"))
    var confirm: String?

    @Flag(help: "Read the target and plan every write without sending any; no confirmation needed. Use its own --state.")
    var dryRun = false

    @Option(help: "Writes in flight at once.")
    var concurrency: Int = 4

    @Option(help: "Who is running the rebuild (default: $USER); recorded with every gate and resume.")
    var operatorName: String?

    @Option(
        help: ArgumentHelp(
            "Append a request log (method, path, status, request-id, duration; secrets redacted) to this file, created 0600.",
            valueName: "path"))
    var log: String?

    @Flag(help: "With --log, also log request and response headers and bodies (redacted).")
    var logBodies = false

    @Option(help: "Also write the post-incident report to this file when the run stops; .md, .html or .json chooses the format.")
    var report: String?

    @Option(
        help: ArgumentHelp(
            "Refuse the snapshot unless manifest.json.sig is a valid Ed25519 signature by this public key (PEM).", valueName: "path"))
    var publicKey: String?

    func validate() throws {
        guard concurrency >= 1, concurrency <= 32 else { throw ValidationError("--concurrency must be between 1 and 32") }
        if let report, ReportFormat(fileExtension: report) == nil {
            throw ValidationError("--report must end in .md, .html or .json (the extension chooses the format)")
        }
        if dryRun, confirm != nil { throw ValidationError("--dry-run writes nothing; drop --confirm") }
    }

    func run() async throws {
        let parameters = try runbook.parameterValues()
        let connection = self.connection
        let logger: Logger?
        do {
            logger = try log.map { try FileLogHandler.open($0, level: logBodies ? .trace : .debug) }
        } catch {
            printError("lifeboat: --log: \(error)")
            throw ExitStatus.invalidInput
        }
        let setup = RemoteRunSetup(
            runbookPath: runbook.runbook, snapshotPath: runbook.snapshot, statePath: state.state, parameters: parameters,
            mode: dryRun ? .dryRun : .live, expectedTenant: connection.tenant, confirmation: confirm, concurrency: concurrency,
            pauseAtGates: true, operatorName: operatorName ?? RunSession.operatorName, graphRoot: connection.endpoints.baseURL,
            checkSnapshot: { snapshot in
                guard let publicKey = self.publicKey else {
                    return SnapshotSignature.custodyStatement(directory: snapshot.directory, verifiedKey: nil)
                }
                let key = try SnapshotSignature.loadPublicKey(path: publicKey)
                // Over the manifest bytes the snapshot was loaded from, never a second read of the file.
                try SnapshotSignature.verify(snapshot, publicKey: key)
                return SnapshotSignature.custodyStatement(
                    directory: snapshot.directory, verifiedKey: key, manifestSHA256: snapshot.manifestSHA256)
            },
            makeClient: { try connection.graphClient(logger: logger) })
        var stopped: ExitCode?
        do {
            try await RunSession.runRemote(setup)
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
