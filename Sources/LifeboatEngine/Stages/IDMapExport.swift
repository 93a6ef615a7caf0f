import Foundation
import LifeboatRunbook
import LifeboatSnapshot

/// `idmap.export`: writes the old-to-new ID map to a file (CSV or JSON) for downstream systems.
struct IDMapExport: StageKind {
    static let spec = StageKindSpec(
        name: "idmap.export", summary: "writes the ID map to a file",
        options: [
            OptionSpec("path", .string, "file to write; relative paths are next to the --state database", required: true),
            OptionSpec("format", .string, "`csv` (default) or `json`"),
        ])

    let path: String
    let format: IDMapFormat

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        path = stage.options.string("path") ?? "idmap.csv"
        guard let format = IDMapFormat(rawValue: stage.options.string("format") ?? "csv") else {
            throw StageConfigurationError(stageID: stage.id, problem: "format must be csv or json")
        }
        self.format = format
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan { StagePlan() }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome { OperationOutcome(.unchanged) }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }

    func finish(in context: StageContext) async throws {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : context.outputDirectory.appendingPathComponent(path)
        // Streamed from the checkpoint to the file: the map is never held whole in memory.
        let rows = try await context.checkpoint.exportIDMap(to: url, format: format)
        try await context.checkpoint.append(.idMapExported(stageID: context.stage.id, rows: rows, path: url.path), simulated: nil)
    }
}
