import Foundation
import LifeboatEngine
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// `lifeboat rebuild --app …`: several app registrations of the target share the writes (Graph's write quota is per
/// app, throttling-limits.md), each signing in with its own credential, over HTTP against the served fake on 127.0.0.1.
@Suite struct MultiAppRebuildTests {
    static let clientIDs = [
        "0b4a6c1e-4d1f-4f7e-9a55-3f2f8e7c1d20", "5d1c7a2e-0f3b-4c55-8a9e-6b7d2e1f4a30", "9e8f7a6b-1c2d-4e3f-8a7b-0c1d2e3f4a5b",
    ]

    @Test func threeAppsShareTheWritesAndTheCheckpointSaysWhichAppDidWhat() async throws {
        let directory = try TemporaryDirectory("apps")
        // Throttling on (with Graph's quotas, which a few hundred writes do not reach) so the fake counts writes per app.
        var profile = FakeTenantProfile.fast
        profile.throttling = FakeTenantProfile.Throttling(enabled: true)
        let tenant = try FakeTenant(
            stateFile: directory.path("target.sqlite"), initialDomain: "contosodr.onmicrosoft.com", profile: profile)
        for name in ["contoso.com", "fabrikam-labs.com", "eu.contoso.com"] { try await tenant.publishDNSRecord(for: name) }
        let secrets = Self.clientIDs.map { _ in "lifeboat-test-secret-\(UUID().uuidString)" }
        for (index, secret) in secrets.enumerated() where index < 2 {
            try Data((secret + "\n").utf8).write(to: directory.url.appendingPathComponent("app\(index + 1).secret"))
        }
        let server = FakeTenantServer(
            tenant: tenant,
            applications: zip(Self.clientIDs, secrets).map {
                AppRegistration(clientID: $0.0, secrets: [$0.1], roles: FakeTenantPermissions.defaultGrants)
            })
        let port = try await server.start()
        let root = "http://127.0.0.1:\(port)"
        let state = directory.path("live.sqlite")
        func rebuild() async throws -> ProcessResult {
            try await runLifeboat(
                [
                    "rebuild", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", Fixtures.contoso.path,
                    "--state", state,
                    "--graph-url", root, "--authority-url", root, "--tenant", tenant.tenantID, "--client-id", Self.clientIDs[0],
                    "--client-secret-file", directory.path("app1.secret"),
                    "--app", "\(Self.clientIDs[1]),secret-file=\(directory.path("app2.secret"))",
                    "--app", "\(Self.clientIDs[2]),secret-env=LIFEBOAT_TEST_APP3_SECRET",
                    "--confirm", tenant.initialDomain,
                ], in: directory, environment: ["LIFEBOAT_TEST_APP3_SECRET": secrets[2]])
        }
        var result = try await rebuild()
        var approvals = 0
        while result.status == 3, approvals < 4 {
            let gate = try #require(result.stdout.components(separatedBy: "--gate ").last?.split(separator: " ").first.map(String.init))
            let approve = try await runLifeboat(["approve", "--state", state, "--gate", gate, "--by", "Ines Duarte"], in: directory)
            #expect(approve.status == 0, "\(approve.stderr)")
            approvals += 1
            result = try await rebuild()
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        await server.stop()

        // Each app signed in with its own credential and wrote its share.
        let byApp = await tenant.throttlingUsage.writesByApp
        #expect(byApp.count == 3, "\(byApp)")
        let total = byApp.values.reduce(0, +)
        for writes in byApp.values { #expect(writes >= total / 6, "\(byApp)") }
        // The checkpoint records which app did each operation that wrote.
        let store = try CheckpointStore(path: state)
        let operations = try await store.operationsByApp()
        #expect(Set(operations.keys.compactMap { $0 }) == Set(Self.clientIDs), "\(operations)")
        let users = try await store.operationsByApp(stageID: "users")
        #expect(users.keys.compactMap { $0 }.count >= 2, "\(users)")
        // The secrets are nowhere but in their own files.
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.url.path) where !file.hasSuffix(".secret") {
            let text = String(decoding: try Data(contentsOf: directory.url.appendingPathComponent(file)), as: UTF8.self)
            for secret in secrets { #expect(!text.contains(secret), "a client secret is in \(file)") }
        }
    }

    @Test func anAppWithoutACredentialOrWithASecretOnTheCommandLineIsRefused() async throws {
        let directory = try TemporaryDirectory("apps-refused")
        for app in ["\(Self.clientIDs[1])", "\(Self.clientIDs[1]),secret=hunter2", "\(Self.clientIDs[1]),secret-env=A,secret-file=B"] {
            let result = try await runLifeboat(
                [
                    "rebuild", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", Fixtures.contoso.path,
                    "--state", directory.path("x.sqlite"), "--graph-url", "http://127.0.0.1:9", "--authority-url", "http://127.0.0.1:9",
                    "--tenant", "t", "--client-id", Self.clientIDs[0], "--client-secret-env", "NONE", "--app", app,
                ], in: directory)
            #expect(result.status != 0)
            #expect(result.stderr.contains("--app"), "\(result.stderr)")
            #expect(!result.stderr.contains("hunter2"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("x.sqlite")))
    }
}
