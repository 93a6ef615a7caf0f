import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// Issue 13, "What must be shown": tabletops against the strict new-tenant fake (the realistic profile), through the CLI.
@Suite struct FirstContactCLITests {
    /// A profile file: realistic, with other new-tenant settings or permissions.
    static func profile(_ directory: TemporaryDirectory, _ name: String, newTenant: String, permissions: [String]? = nil) throws -> String {
        var text = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Sources/LifeboatFakeTenant/Profiles/realistic.yaml"),
            encoding: .utf8)
        text = String(text[..<text.range(of: "newTenant:")!.lowerBound]).replacingOccurrences(of: "name: realistic", with: "name: \(name)")
        text += "newTenant:\n" + newTenant
        if let permissions { text += "permissions:\n" + permissions.map { "  - \($0)\n" }.joined() }
        let path = directory.path("\(name).yaml")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The fake tenant a tabletop left behind, reopened.
    static func fake(_ state: String) throws -> FakeTenant {
        let path = state + ".fake-tenant.sqlite"
        let identity = try #require(try FakeTenant.identity(stateFile: path))
        return try FakeTenant(stateFile: path, tenantID: identity.tenantID, initialDomain: identity.initialDomain)
    }

    static let strict = "  securityDefaults: true\n  conditionalAccessLicensed: true\n  temporaryAccessPassEnabled: false\n"

    /// The README's first command, as it is: the Contoso values come from Examples/contoso/parameters.yaml. Conditional
    /// Access is enabled only after the Security Defaults gate, and verify finds no difference.
    @Test func theReadmeCommandRebuildsContosoIntoANewTenant() async throws {
        let directory = try TemporaryDirectory("readme")
        let state = directory.path("drill/contoso.sqlite")
        let result = try await runTabletop(state: state, in: directory, ["--report", directory.path("drill/report.html")])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("[securityDefaults] Security Defaults are on; stage security-defaults turns them off"))
        let store = try CheckpointStore(path: state)
        let events = try await store.events()
        let off = try #require(events.firstIndex { $0.kind == "securityDefaults.disabled" })
        let gate = try #require(events.firstIndex { $0.kind == "gate.approved" && $0.stageID == "security-defaults" })
        let created = try #require(events.firstIndex { $0.stageID == "ca-policies" })
        let enabled = try #require(events.lastIndex { $0.stageID == "enable-ca" })
        #expect(gate < off && off < created && created < enabled)
        let followUps = try await store.followUps()
        #expect(!followUps.contains { $0.followUp.category == "verify-difference" }, "\(followUps.map(\.followUp.message))")
        let tenant = try Self.fake(state)
        #expect(await tenant.securityDefaultsEnabled == false)
        let policies = await tenant.objects(ofType: "conditionalAccessPolicy")
        #expect(policies.count == 4)
        #expect(policies.contains { $0["state"]?.stringValue == "enabled" })
    }

    /// A run whose app lacks a permission stops in preflight, before any write, naming the permission and the stages.
    @Test func aMissingPermissionStopsThePreflightBeforeAnyWrite() async throws {
        let directory = try TemporaryDirectory("perm")
        let withheld = FakeTenantPermissions.defaultGrants.filter { $0 != "UserAuthenticationMethod.ReadWrite.All" }
        let profile = try Self.profile(directory, "no-tap", newTenant: Self.strict, permissions: withheld)
        let state = directory.path("perm.sqlite")
        let result = try await runTabletop(state: state, in: directory, ["--profile", profile])
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("UserAuthenticationMethod.ReadWrite.All"))
        #expect(result.stderr.contains("admin-access-passes"))
        #expect(result.stderr.contains("nothing was written"))
        let tenant = try Self.fake(state)
        #expect(await tenant.writeCount == 0)
        #expect(await tenant.objects(ofType: "user").isEmpty)
        // The findings are in the run's record, so the report lists them.
        let store = try CheckpointStore(path: state)
        #expect(try await store.eventDetails(.readinessFinding).contains { $0.message.contains("[permissionMissing]") })
    }

    /// A Conditional Access stage in a tenant without Entra ID P1/P2 is a clear stop before any write.
    @Test func anUnlicensedTenantStopsBeforeSecurityDefaultsGoOff() async throws {
        let directory = try TemporaryDirectory("unlicensed")
        let profile = try Self.profile(
            directory, "no-p1",
            newTenant: "  securityDefaults: true\n  conditionalAccessLicensed: false\n  temporaryAccessPassEnabled: false\n")
        let state = directory.path("s.sqlite")
        let result = try await runTabletop(state: state, in: directory, ["--profile", profile])
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("[conditionalAccessLicence]") && result.stderr.contains("P1"))
        let tenant = try Self.fake(state)
        #expect(await tenant.writeCount == 0)
        #expect(await tenant.objects(ofType: "user").isEmpty)
        #expect(!(try await CheckpointStore(path: state).events()).contains { $0.kind == "securityDefaults.disabled" })
    }

    /// A domain held by another tenant: no 4 h wait, its users stay on the recovery domain, one follow-up per domain.
    @Test func aHeldDomainLeavesItsUsersOnTheRecoveryDomain() async throws {
        let directory = try TemporaryDirectory("held")
        let profile = try Self.profile(directory, "held", newTenant: Self.strict + "  heldDomains: [fabrikam-labs.com]\n")
        let state = directory.path("held.sqlite")
        let result = try await runTabletop(state: state, in: directory, ["--profile", profile])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let store = try CheckpointStore(path: state)
        let followUps = try await store.followUps().map(\.followUp)
        let held = followUps.filter { $0.category == "domain-held" }
        #expect(held.count == 1)
        #expect(held.first?.message.contains("fabrikam-labs.com") == true)
        #expect(held.first?.action.contains("remove fabrikam-labs.com") == true)
        let unverified = followUps.filter { $0.category == "domain-unverified" }
        #expect(unverified.count == 1, "\(unverified)")
        #expect(unverified.first?.message.contains("fabrikam-labs.com") == true)
        // No 4 h of polling: the held domain stopped at its first answer.
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let tenant = try Self.fake(state)
        let upns = Set(await tenant.objects(ofType: "user").compactMap { $0["userPrincipalName"]?.stringValue?.lowercased() })
        for user in snapshot.users where !user.isGuest && !user.onPremisesSyncEnabled {
            let local = user.userPrincipalName.split(separator: "@")[0].lowercased()
            if user.upnDomain == "fabrikam-labs.com" {
                #expect(upns.contains("\(local)@\(tenant.initialDomain)"), "\(user.userPrincipalName) is not on the recovery domain")
            } else if user.upnDomain == "contoso.com" {
                #expect(upns.contains(user.userPrincipalName.lowercased()))
            }
        }
        let waits = try await store.simulatedWaits()["verify-domains"]?["polling"] ?? 0
        #expect(waits < 4 * 3_600)
    }

    /// The hostage case as a scenario: `hold-domains` keeps contoso.com in the old tenant for the whole exercise.
    @Test func aScenarioHoldsADomainInTheOldTenant() async throws {
        let directory = try TemporaryDirectory("hostage")
        let scenario = directory.path("hostage.yaml")
        try Data(
            """
            lifeboat: 1
            name: hostage
            runbook: \(Fixtures.runbook("rebuild-new-tenant.yaml").path)
            snapshot: \(Fixtures.contoso.path)
            profile: realistic
            events:
              - do: hold-domains
                name: the attacker keeps the domain
                domains: [contoso.com]

            """.utf8
        ).write(to: URL(fileURLWithPath: scenario))
        let state = directory.path("hostage.sqlite")
        let result = try await runLifeboat(["tabletop", "--scenario", scenario, "--state", state], in: directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let store = try CheckpointStore(path: state)
        #expect(
            try await store.events().contains {
                $0.kind == "scenario.injected" && $0.message.contains("contoso.com stay verified in the old tenant")
            })
        let followUps = try await store.followUps().map(\.followUp)
        #expect(followUps.filter { $0.category == "domain-held" }.map(\.message).allSatisfy { $0.contains("contoso.com") })
        #expect(followUps.filter { $0.category == "domain-held" }.count == 1)
        #expect(followUps.filter { $0.category == "domain-unverified" }.count == 1)
    }

    /// A tenant that is not Contoso (other domains, other admins) rebuilds with the shipped runbook and only --param values.
    @Test func aGeneratedTenantRebuildsWithParametersOnly() async throws {
        let directory = try TemporaryDirectory("northwind")
        let out = directory.path("northwind")
        let generate = try await runLifeboat(
            [
                "fake-tenant", "generate", "--users", "80", "--name", "northwind", "--domains", "northwind.example,nw-labs.example",
                "--seed", "5", "--out", out,
            ], in: directory)
        #expect(generate.status == 0, "\(generate.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/parameters.yaml"))
        let bare = try await runTabletop(state: directory.path("bare.sqlite"), in: directory, snapshot: out)
        #expect(bare.status == 2 && bare.stderr.contains("`operator` has no value"), "\(bare.stderr)")
        let state = directory.path("nw.sqlite")
        let result = try await runTabletop(
            state: state, in: directory, snapshot: out,
            [
                "--param", "operator=bg-admin-01@northwind.onmicrosoft.com",
                "--param", "breakGlass1=bg-admin-01@northwind.onmicrosoft.com",
                "--param", "breakGlass2=bg-admin-02@northwind.onmicrosoft.com",
            ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let store = try CheckpointStore(path: state)
        let followUps = try await store.followUps().map(\.followUp)
        #expect(
            !followUps.contains { $0.category == "verify-difference" },
            "\(followUps.filter { $0.category == "verify-difference" }.map(\.message))")
        let tenant = try Self.fake(state)
        let domains = Set(
            await tenant.objects(ofType: "user").compactMap {
                $0["userPrincipalName"]?.stringValue?.split(separator: "@").last.map(String.init)
            })
        #expect(domains.isSubset(of: ["northwind.example", "nw-labs.example", tenant.initialDomain]))
        #expect(domains.contains("northwind.example"))
    }
}
