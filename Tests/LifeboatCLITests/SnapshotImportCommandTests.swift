import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat snapshot import` and `lifeboat snapshot summary` with the real binary.
@Suite struct SnapshotImportCommandTests {
    @Test func importThenPlanThenSummarise() async throws {
        let directory = try TemporaryDirectory("cli-import")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        let snapshot = directory.path("snap")
        let imported = try await runLifeboat(
            [
                "snapshot", "import", "--from", "powershell-csv", input.path, "--out", snapshot,
                "--captured-at", "2025-03-01T02:00:00Z",
            ], in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("7  users"))
        #expect(imported.stdout.contains("user.otherMails [flattened]"))
        #expect(imported.stdout.contains("Not imported (nothing Lifeboat restores): notes.txt"))

        // The capture side's verifier accepts it: importLosses.json is listed and hashed like the data files.
        let verified = try await runLifeboat(["snapshot", "verify", snapshot], in: directory)
        #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")

        // An imported snapshot has no parameters.yaml: the accounts come from a parameters file (issue 13 item 8, no Contoso defaults).
        let plan = try await runLifeboat(
            [
                "plan", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", snapshot,
                "--params", Fixtures.contoso.appendingPathComponent("parameters.yaml").path,
            ], in: directory)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("write operations"))

        let summary = try await runLifeboat(["snapshot", "summary", snapshot, "--format", "json"], in: directory)
        #expect(summary.status == 0, "\(summary.stderr)")
        let document = try JSONCoding.decode(Data(summary.stdout.utf8))
        #expect(document["capturedAt"]?.stringValue == "2025-03-01T02:00:00Z")
        #expect(document["import"]?["importedFrom"]?.stringValue == "powershell-csv")
        let codes = Set(document["warnings"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? [])
        #expect(codes.isSuperset(of: ["synced-users", "guests", "import-losses", "recycle-bin-window"]))

        let text = try await runLifeboat(["snapshot", "summary", snapshot], in: directory)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("[warning] 1 users are synced from on-premises Active Directory"))
        #expect(text.stdout.contains("Import losses (powershell-csv"))

        // A second import into the same place is refused, and the snapshot is untouched.
        let again = try await runLifeboat(["snapshot", "import", "--from", "powershell-csv", input.path, "--out", snapshot], in: directory)
        #expect(again.status == 2)
        #expect(again.stderr.contains("not empty"))
    }

    @Test(arguments: ["entra-exporter", "powershell-csv"])
    func anImportedSnapshotRestoresInATabletop(_ format: String) async throws {
        let directory = try TemporaryDirectory("cli-import-tabletop")
        let input = directory.url.appendingPathComponent("export")
        if format == "entra-exporter" {
            try ImportFixtures.writeEntraExporter(into: input)
        } else {
            try ImportFixtures.writePowerShell(into: input)
        }
        let snapshot = directory.path("snap")
        let imported = try await runLifeboat(["snapshot", "import", "--from", format, input.path, "--out", snapshot], in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        let state = directory.path("drill.sqlite")
        let run = try await runTabletop(
            state: state, in: directory, snapshot: snapshot,
            ["--profile", "fast", "--params", Fixtures.contoso.appendingPathComponent("parameters.yaml").path])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let status = try await runLifeboat(["status", "--state", state, "--json"], in: directory)
        let document = try JSONCoding.decode(Data(status.stdout.utf8))
        #expect(document["run"]?["status"]?.stringValue == "done", "\(status.stdout)")
        #expect(document["failedOperations"]?.arrayValue?.isEmpty == true, "\(document["failedOperations"].map(JSONCoding.string) ?? "")")
        // Every member user came back; the synced one is a follow-up, the guest was invited.
        let idmap = try await runLifeboat(["idmap", "--state", state, "--format", "csv"], in: directory)
        #expect(idmap.stdout.contains("alice@contoso.com") || idmap.stdout.contains("alice@"), "\(idmap.stdout)")
    }

    @Test func badInputExitsWithTheLocation() async throws {
        let directory = try TemporaryDirectory("cli-import-bad")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(
            into: input,
            replacing: [
                "groups.csv": """
                "Id","DisplayName","MailEnabled","SecurityEnabled","MailNickname"
                "g1","SG","False","Perhaps","sg"
                """
            ])
        let result = try await runLifeboat(
            ["snapshot", "import", "--from", "powershell-csv", input.path, "--out", directory.path("snap")], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("groups.csv:2: SecurityEnabled: \"Perhaps\" is not True or False"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("snap")))

        let unknown = try await runLifeboat(
            ["snapshot", "import", "--from", "csv", input.path, "--out", directory.path("snap")], in: directory)
        #expect(unknown.status == 64)
    }
}
