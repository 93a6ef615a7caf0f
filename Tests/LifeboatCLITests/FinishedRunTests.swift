import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// Asking a finished tabletop to run again is answered from the checkpoint (and the snapshot's manifest hash) alone:
/// the same answer as before, nothing written, and a checkpoint of another snapshot still refused.
@Suite struct FinishedRunTests {
    @Test func aFinishedRunAnswersCompleteWithoutWritingAndOtherSnapshotsAreStillRefused() async throws {
        let directory = try TemporaryDirectory("finished-run")
        let snapshot = try Fixtures.copyContoso(into: directory)
        let command = [
            "tabletop", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", snapshot.path,
            "--state", directory.path("drill.sqlite"),
        ]
        let first = try await runLifeboat(command, in: directory)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let events = try await CheckpointStore(readingOnly: directory.path("drill.sqlite")).events().count
        let fakeBytes = try Data(contentsOf: URL(fileURLWithPath: directory.path("drill.sqlite.fake-tenant.sqlite")))

        let again = try await runLifeboat(command, in: directory)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("is already complete; nothing to do"), "\(again.stdout)")
        #expect(try await CheckpointStore(readingOnly: directory.path("drill.sqlite")).events().count == events)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("drill.sqlite.fake-tenant.sqlite"))) == fakeBytes)
        let resumed = try await runLifeboat(["resume", "--state", directory.path("drill.sqlite")], in: directory)
        #expect(resumed.status == 0 && resumed.stdout.contains("already complete"), "\(resumed.stdout)\n\(resumed.stderr)")

        // The snapshot's collections are not even read for a finished run: one no longer matching its manifest goes unnoticed
        // (nothing is restored from it), while the manifest still ties the checkpoint to the snapshot.
        let users = snapshot.appendingPathComponent("users.json")
        let original = try Data(contentsOf: users)
        try (original + Data(" ".utf8)).write(to: users)
        let unread = try await runLifeboat(command, in: directory)
        #expect(unread.status == 0 && unread.stdout.contains("already complete"), "\(unread.stdout)\n\(unread.stderr)")
        try original.write(to: users)

        // Another snapshot (one file changed and the manifest re-sealed): refused as before, exit 2.
        try Fixtures.rewrite("groups.json", in: snapshot) { data in
            Data(
                String(decoding: data, as: UTF8.self).replacingOccurrences(of: "All members of the Finance department.", with: "Finance.")
                    .utf8)
        }
        let other = try await runLifeboat(command, in: directory)
        #expect(other.status == 2, "\(other.stdout)\n\(other.stderr)")
        #expect(other.stderr.contains("belongs to a run from another snapshot"), "\(other.stderr)")

        // A snapshot directory that is not one: the full load reports it, as before.
        let missing = try await runTabletop(state: directory.path("drill.sqlite"), in: directory, snapshot: directory.path("nowhere"))
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("snapshot"), "\(missing.stderr)")
    }
}
