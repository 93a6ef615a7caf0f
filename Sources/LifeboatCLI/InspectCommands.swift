import ArgumentParser
import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `lifeboat plan`: what a runbook would do with a snapshot, without touching any tenant.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a runbook against a snapshot and print the ordered stages, operation counts, gates and warnings.")

    @OptionGroup var runbook: RunbookOptions

    @Option(help: "The target's initial domain, for ${target.initialDomain} (default: derived from the snapshot).")
    var targetDomain: String?

    func run() async throws {
        let snapshot = try RunSession.loadSnapshot(runbook.snapshot)
        let domain = targetDomain ?? RunSession.defaultTargetDomain(for: snapshot)
        let book = try RunSession.loadRunbook(
            runbook.runbook, parameters: try runbook.parameterValues(),
            builtins: RunSession.builtins(snapshot: snapshot, targetDomain: domain, targetTenantID: "(target tenant id)"),
            snapshotPath: runbook.snapshot)
        let prepared: [PreparedStage]
        do {
            prepared = try Executor.prepare(book, snapshot: snapshot)
        } catch {
            printError("lifeboat: \(book.file): \(error)")
            throw ExitStatus.invalidInput
        }
        print("Runbook \(book.name) (\(book.file), sha256 \(book.sha256.prefix(12))…)")
        print("Snapshot of tenant \(snapshot.manifest.sourceTenantId), captured \(snapshot.manifest.capturedAt)")
        if let objective = book.objective { print("Recovery-time objective: \(DurationText.format(objective))") }
        print("")
        var total = 0
        for (number, item) in prepared.enumerated() {
            let writes = item.plan.operations.filter { $0.skip == nil }.count
            let skipped = item.plan.operations.count - writes
            total += writes
            var line = "\(number + 1). \(item.stage.id) [\(item.stage.kind)] \(item.stage.title): \(writes) operations"
            if skipped > 0 { line += ", \(skipped) skipped with follow-ups" }
            if !item.stage.after.isEmpty { line += " — after \(item.stage.after.joined(separator: ", "))" }
            print(line)
            if let duration = item.stage.estimatedDuration { print("   estimated manual work: \(DurationText.format(duration))") }
            if let gate = item.stage.gate {
                print("   gate: " + gate.instructions.split(separator: "\n").joined(separator: "\n         "))
            }
            for warning in item.plan.warnings { print("   warning: \(warning)") }
        }
        print("\n\(total) write operations in \(prepared.count) stages.")
    }
}

/// `lifeboat status`: where a run stands.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a run's stages, operations, gates and follow-ups.")

    @OptionGroup var state: StateOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let store = try openExisting(state.state)
        guard let run = try await store.runRecord() else {
            printError("lifeboat: \(state.state) holds no run")
            throw ExitStatus.invalidInput
        }
        let stages = try await store.stages()
        let gates = try await store.gates()
        // Counts and the first follow-ups only: at 100,000 objects, reading every row took seconds and most of a gigabyte.
        let shownFollowUps = 50
        let followUps = try await store.followUps(limit: shownFollowUps)
        let totals = try await store.totals()
        let stageCounts = try await store.operationCountsByStage()
        let failed = try await store.failedOperations()

        if json {
            let document: JSONValue = [
                "run": [
                    "id": .string(run.record.id), "status": .string(run.status.rawValue), "mode": .string(run.record.mode.rawValue),
                    "runbook": .string(run.record.runbookName), "target": .string(run.record.target),
                    "startedAt": .string(run.record.startedAt),
                    "finishedAt": run.finishedAt.map(JSONValue.string) ?? .null,
                ],
                "stages": .array(
                    stages.map { stage in
                        [
                            "id": .string(stage.id), "kind": .string(stage.kind), "status": .string(stage.status.rawValue),
                            "operations": .object(
                                JSONObject(
                                    uniqueKeysWithValues: (stageCounts[stage.id] ?? [:]).map {
                                        ($0.key.rawValue, JSONValue.number(Double($0.value)))
                                    })),
                        ]
                    }),
                "gates": .array(
                    gates.map {
                        [
                            "stage": .string($0.stageID), "status": .string($0.status.rawValue),
                            "decidedBy": $0.decidedBy.map(JSONValue.string) ?? .null,
                        ]
                    }),
                "failedOperations": .array(
                    failed.map {
                        [
                            "key": .string($0.planned.key), "code": $0.errorCode.map(JSONValue.string) ?? .null,
                            "message": $0.errorMessage.map(JSONValue.string) ?? .null,
                            "requestId": $0.requestID.map(JSONValue.string) ?? .null,
                        ]
                    }),
                "followUps": .number(Double(totals.followUps)),
                "idMapEntries": .number(Double(totals.idMap)),
            ]
            print(String(decoding: try JSONCoding.encodePretty(document), as: UTF8.self))
            return
        }
        print("Run \(run.record.id): \(run.status.rawValue)")
        print("  \(run.record.mode.rawValue) of \(run.record.runbookName) → \(run.record.target)")
        print(
            "  started \(run.record.startedAt) by \(run.record.operatorName) on \(run.record.host)"
                + (run.finishedAt.map { ", finished \($0)" } ?? ""))
        print("")
        for stage in stages {
            let counts = (stageCounts[stage.id] ?? [:]).sorted { $0.key.rawValue < $1.key.rawValue }.map {
                "\($0.value) \($0.key.rawValue)"
            }
            print(
                "  \(stage.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(stage.id) [\(stage.kind)]\(counts.isEmpty ? "" : ": " + counts.joined(separator: ", "))"
            )
        }
        if !gates.isEmpty {
            print("\nGates:")
            for gate in gates {
                print("  \(gate.stageID): \(gate.status.rawValue)" + (gate.decidedBy.map { " by \($0) at \(gate.decidedAt ?? "?")" } ?? ""))
            }
        }
        if !failed.isEmpty {
            print("\nFailed operations:")
            for op in failed {
                print(
                    "  \(op.planned.key) \(op.planned.displayName): \(op.errorCode ?? "?"): \(op.errorMessage ?? "")"
                        + (op.requestID.map { " [request-id \($0)]" } ?? ""))
            }
        }
        if !followUps.isEmpty {
            print("\nFollow-ups (\(totals.followUps)):")
            for item in followUps.prefix(shownFollowUps) {
                print("  [\(item.followUp.category)] \(item.followUp.message) → \(item.followUp.action)")
            }
            if totals.followUps > shownFollowUps { print("  … and \(totals.followUps - shownFollowUps) more") }
        }
        print("\nID map: \(totals.idMap) objects (lifeboat idmap --state \(state.state) --format csv)")
    }
}

/// `lifeboat approve`: record a person's approval of a gate.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a gate so that `lifeboat resume` can continue past it.")

    @OptionGroup var state: StateOptions

    @Option(help: "The id of the stage whose gate is approved.")
    var gate: String

    @Option(help: "Who approves (recorded in the event log).")
    var by: String

    @Option(help: "A note kept with the approval.")
    var note: String?

    func run() async throws {
        // An approval writes to the checkpoint: never while a process works the run.
        if FileManager.default.fileExists(atPath: state.state), InputFile.nonRegularKind(state.state) == nil {
            try RunSession.lockRun(state.state)
        }
        // Checked as a checkpoint read-only first: approving never creates tables in another file.
        _ = try openExisting(state.state)
        let store = try openExisting(state.state, readOnly: false)
        guard let record = try await store.gate(gate) else {
            let waiting = try await store.gates().filter { $0.status == .waiting }.map(\.stageID)
            printError(
                "lifeboat: no gate \(gate) has been reached in this run"
                    + (waiting.isEmpty ? "" : "; waiting: \(waiting.joined(separator: ", "))"))
            throw ExitStatus.invalidInput
        }
        guard try await store.approveGate(gate, by: by, note: note, simulatedSeconds: nil) else {
            print("Gate \(gate) was already \(record.status) by \(record.decidedBy ?? "?") at \(record.decidedAt ?? "?").")
            return
        }
        print("Gate \(gate) approved by \(by). Continue with: lifeboat resume --state \(state.state)")
    }
}

/// `lifeboat idmap`: the old-to-new ID map for downstream systems.
struct IDMapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idmap", abstract: "Print or write the old-to-new ID map (type, old id, new id, natural key, display name, how).")

    @OptionGroup var state: StateOptions

    @Option(help: "csv or json.")
    var format: String = "csv"

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    func run() async throws {
        guard let format = IDMapFormat(rawValue: format) else { throw ValidationError("--format must be csv or json") }
        let store = try openExisting(state.state)
        // Row by row from the checkpoint, never the whole map in memory.
        if let out {
            try await store.exportIDMap(to: URL(fileURLWithPath: out), format: format)
        } else {
            try await store.writeIDMap(format, to: FileHandle.standardOutput)
        }
    }
}

/// Opens an existing checkpoint database or exits with the invalid-input code. Read-only by default (`status`, `report`,
/// `idmap`): nothing is created or changed, and a file that is not a Lifeboat checkpoint is refused untouched.
func openExisting(_ path: String, readOnly: Bool = true) throws -> CheckpointStore {
    guard FileManager.default.fileExists(atPath: path) else {
        printError("lifeboat: \(path) does not exist")
        throw ExitStatus.invalidInput
    }
    if let kind = InputFile.nonRegularKind(path) {
        printError("lifeboat: \(path) is \(kind), not a checkpoint database")
        throw ExitStatus.invalidInput
    }
    do {
        return readOnly ? try CheckpointStore(readingOnly: path) : try CheckpointStore(path: path)
    } catch {
        printError("lifeboat: cannot open \(path): \(error)")
        throw ExitStatus.invalidInput
    }
}
