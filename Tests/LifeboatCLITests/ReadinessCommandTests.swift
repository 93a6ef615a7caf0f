import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat readiness` with the real binary: formats and exit codes.
@Suite struct ReadinessCommandTests {
    static let runbook = Fixtures.runbook("rebuild-new-tenant.yaml").path

    @Test func reportsFindingsAndExitsOneOnlyWhenOneIsCritical() async throws {
        let directory = try TemporaryDirectory("readiness-cli")
        // Contoso has a synced user and a client secret (warnings), nothing critical for a rebuild.
        let text = try await runLifeboat(["readiness", "--runbook", Self.runbook, "--snapshot", Fixtures.contoso.path], in: directory)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("WARNING  [syncedObjects]"))
        #expect(text.stdout.contains("tom.becker@contoso.com"))
        #expect(text.stdout.contains("fix: "))

        // Over the 8h objective: critical, exit 1; JSON carries every finding.
        let json = try await runLifeboat(
            [
                "readiness", "--runbook", Self.runbook, "--snapshot", Fixtures.contoso.path, "--format", "json",
                "--estimated-rto", "9h",
            ], in: directory)
        #expect(json.status == 1, "\(json.stderr)")
        let document = try JSONCoding.decode(Data(json.stdout.utf8))
        let findings = try #require(document["findings"]?.arrayValue)
        #expect(findings.first?["kind"]?.stringValue == "rtoOverObjective")
        #expect(findings.first?["severity"]?.stringValue == "critical")
        #expect(findings.contains { $0["kind"]?.stringValue == "clientSecrets" })

        // A break-glass account that is not in the snapshot is critical.
        let missing = try await runLifeboat(
            [
                "readiness", "--runbook", Self.runbook, "--snapshot", Fixtures.contoso.path,
                "--param", "breakGlass2=nobody@contoso.com",
            ], in: directory)
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("CRITICAL [breakGlass]"))

        let bad = try await runLifeboat(["readiness", "--runbook", Self.runbook, "--snapshot", directory.path("nowhere")], in: directory)
        #expect(bad.status == 2)
    }
}
