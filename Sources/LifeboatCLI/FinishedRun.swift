import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatSnapshot

extension RunSession {
    /// The run in `statePath` when it is finished, of `mode`, and from the snapshot at `snapshotPath` (by its manifest's
    /// SHA-256) — answered from the checkpoint's run row and the manifest alone, so asking a finished run to run again
    /// costs neither loading the snapshot nor planning the runbook. `nil` in every other case (no checkpoint yet, no run,
    /// not finished, another mode or snapshot, an unreadable manifest): the caller then goes the whole way (under the run
    /// lock), which reports those cases as before. The checkpoint is opened read-only.
    static func finishedRun(statePath: String, snapshotPath: String, mode: RunMode) async throws -> RunRecord? {
        guard InputFile.isNonEmptyRegularFile(statePath), let store = try? CheckpointStore(readingOnly: statePath) else { return nil }
        guard let existing = try await store.runRecord(), existing.status == ProgressStatus.done, existing.record.mode == mode,
            let manifest = try? InputFile.read(
                URL(fileURLWithPath: snapshotPath).appendingPathComponent(Snapshot.manifestFileName).path,
                limit: Snapshot.manifestLimit),
            Snapshot.sha256Hex(manifest) == existing.record.snapshotManifestSHA256
        else { return nil }
        return existing.record
    }
}
