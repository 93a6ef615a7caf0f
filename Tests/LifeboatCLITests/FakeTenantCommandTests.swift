import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat fake-tenant generate`, then the shipped runbook against what it wrote.
@Suite struct FakeTenantCommandTests {
    @Test func generatedTenantRehearsesWithTheShippedRunbook() async throws {
        let directory = try TemporaryDirectory("generate-cli")
        let generated = try await runLifeboat(
            ["fake-tenant", "generate", "--users", "400", "--seed", "11", "--out", directory.path("tenant")],
            in: directory)
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(generated.stdout.contains("400 users"))

        let again = try await runLifeboat(["fake-tenant", "generate", "--users", "400", "--out", directory.path("tenant")], in: directory)
        #expect(again.status == 2)
        #expect(again.stderr.contains("not empty"))

        // The generated tenant's Global Administrators are its break-glass accounts; the shipped runbook names nobody's
        // accounts (issue 13 item 8).
        let tabletop = try await runTabletop(
            state: directory.path("drill.sqlite"), in: directory, snapshot: directory.path("tenant"),
            [
                "--param", "operator=bg-admin-01@contoso.onmicrosoft.com",
                "--param", "breakGlass1=bg-admin-01@contoso.onmicrosoft.com",
                "--param", "breakGlass2=bg-admin-02@contoso.onmicrosoft.com",
            ])
        #expect(tabletop.status == 0, "\(tabletop.stdout)\n\(tabletop.stderr)")
        let status = try await runLifeboat(["status", "--state", directory.path("drill.sqlite"), "--json"], in: directory)
        #expect(try JSONCoding.decode(Data(status.stdout.utf8))["run"]?["status"]?.stringValue == "done")
    }
}
