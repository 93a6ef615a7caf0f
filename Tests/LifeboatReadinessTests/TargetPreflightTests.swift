import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatReadiness
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// The target preflight as a library: the same type the tabletop and the live path call before their first write.
@Suite struct TargetPreflightTests {
    static func assess(
        _ stages: String, newTenant: FakeTenantProfile.NewTenant?, granted: Set<String>? = Set(FakeTenantPermissions.defaultGrants)
    )
        async throws -> TargetPreflight.Report
    {
        var profile = FakeTenantProfile.fast
        profile.newTenant = newTenant
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "contosodr.onmicrosoft.com", profile: profile)
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant))
        let runbook = try Runbook.parse(
            "name: p\nstages:\n" + stages, file: "p.yaml", catalog: StageCatalog.specs,
            builtins: ["target.initialDomain": "contosodr.onmicrosoft.com"])
        let report = await TargetPreflight.assess(
            TargetPreflight.Input(
                runbook: runbook, snapshot: try Snapshot.load(from: Fixtures.contoso),
                grantedPermissions: granted), graph: graph)
        #expect(await tenant.writeCount == 0, "the preflight wrote to the target")
        return report
    }

    static let strict = FakeTenantProfile.NewTenant(
        securityDefaults: true, conditionalAccessLicensed: true, temporaryAccessPassEnabled: false)

    @Test func conditionalAccessWithoutASecurityDefaultsStageIsBlocking() async throws {
        let report = try await Self.assess("  - id: ca\n    kind: conditionalAccess.create\n", newTenant: Self.strict)
        let finding = try #require(report.blocking.first { $0.kind == .securityDefaults })
        #expect(finding.stages == ["ca"])
        #expect(finding.fix.contains("securityDefaults.disable"))
        // With the stage before the policies it is only worth knowing.
        let planned = try await Self.assess(
            "  - id: sd\n    kind: securityDefaults.disable\n  - id: ca\n    kind: conditionalAccess.create\n",
            newTenant: Self.strict)
        #expect(planned.blocking.isEmpty)
        #expect(planned.findings.contains { $0.kind == .securityDefaults && $0.severity == .info })
    }

    @Test func anUnlicensedTenantAndADisabledPassMethodAreBlocking() async throws {
        let report = try await Self.assess(
            "  - id: ca\n    kind: conditionalAccess.create\n  - id: passes\n    kind: users.accessPasses\n    options:\n      users: [a@contoso.com]\n      secretsFile: p.csv\n",
            newTenant: FakeTenantProfile.NewTenant(
                securityDefaults: false, conditionalAccessLicensed: false, temporaryAccessPassEnabled: false))
        #expect(Set(report.blocking.map(\.kind)) == [.conditionalAccessLicence, .temporaryAccessPass])
        #expect(report.blocking.first { $0.kind == .temporaryAccessPass }?.stages == ["passes"])
    }

    @Test func missingPermissionsNameTheStagesAndAnUnknownGrantIsNotChecked() async throws {
        let withheld = Set(FakeTenantPermissions.defaultGrants).subtracting(["RoleManagement.ReadWrite.Directory"])
        let stages = "  - id: roles\n    kind: roles.definitions\n  - id: assign\n    kind: roles.assign\n"
        let report = try await Self.assess(stages, newTenant: nil, granted: withheld)
        let finding = try #require(report.blocking.first { $0.kind == .permissionMissing })
        #expect(finding.summary.contains("RoleManagement.ReadWrite.Directory"))
        #expect(finding.stages == ["roles", "assign"])
        #expect(try await Self.assess(stages, newTenant: nil, granted: nil).blocking.isEmpty)
    }

    @Test func usersOnUnverifiedDomainsWithoutARecoveryDomainAreBlocking() async throws {
        let report = try await Self.assess(
            "  - id: users\n    kind: users.create\n    options:\n      upnDomainMap:\n        contoso.onmicrosoft.com: contosodr.onmicrosoft.com\n",
            newTenant: Self.strict)
        let finding = try #require(report.blocking.first { $0.kind == .domainVerification })
        #expect(finding.summary.contains("contoso.com") && finding.fix.contains("otherDomainsTo"))
        let mapped = try await Self.assess(
            "  - id: users\n    kind: users.create\n    options:\n      upnDomainMap:\n        contoso.onmicrosoft.com: contosodr.onmicrosoft.com\n      otherDomainsTo: contosodr.onmicrosoft.com\n",
            newTenant: Self.strict)
        #expect(mapped.blocking.isEmpty)
    }

    @Test func tokenRolesAreReadFromTheJWT() {
        let payload = Data(#"{"tid":"t","roles":["User.ReadWrite.All","Policy.Read.All"]}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(TargetPreflight.roles(ofAccessToken: "eyJhbGciOiJub25lIn0.\(payload).") == ["User.ReadWrite.All", "Policy.Read.All"])
        #expect(TargetPreflight.roles(ofAccessToken: "opaque") == nil)
    }
}
