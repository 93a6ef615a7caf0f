import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatEngine

/// The reference pages live next to the repository (`../shared/graph/docs`); tests that read them skip when absent.
enum ReferencePages {
    static let root = Fixtures.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/graph/docs/api-reference/v1.0/api")

    static func text(_ page: String) -> String? { try? String(contentsOf: root.appendingPathComponent(page), encoding: .utf8) }
}

@Suite struct StagePermissionTableTests {
    /// Every stage kind the engine knows has a row, so a new kind cannot be shipped without saying what it needs.
    @Test func everyStageKindHasARow() {
        let missing = StageCatalog.kinds.keys.filter { StagePermissions.table[$0] == nil }.sorted()
        #expect(missing.isEmpty, "kinds without a permission row: \(missing)")
        #expect(Set(StagePermissions.table.keys).isSubset(of: Set(StageCatalog.kinds.keys)))
    }

    /// Spot checks against the reference pages' permission tables (read at run time; skipped without them): the
    /// permission the table asks for is one the page lists as application permission for the request the stage sends.
    @Test(arguments: [
        ("users.create", "user-post-users.md"), ("users.accessPasses", "authentication-post-temporaryaccesspassmethods.md"),
        ("conditionalAccess.create", "conditionalaccessroot-post-policies.md"), ("domains.add", "domain-post-domains.md"),
        ("roles.assign", "rbacapplication-post-roleassignments.md"), ("apps.create", "application-post-applications.md"),
        ("oauth2Grants.create", "oauth2permissiongrant-post.md"), ("adminUnits.members", "administrativeunit-post-members.md"),
        ("securityDefaults.disable", "identitysecuritydefaultsenforcementpolicy-update.md"),
        ("authenticationStrengths.create", "authenticationstrengthroot-post-policies.md"),
    ])
    func matchesTheReferencePage(_ kind: String, _ page: String) throws {
        guard let text = ReferencePages.text(page) else {
            print("skipped: \(page) is not in ../shared/graph/docs")
            return
        }
        let applicationRows = text.split(separator: "\n").filter { $0.contains("Application") && $0.contains("|") }.joined(separator: "\n")
        // The write permission of the stage's main request is on its page.
        let writes = StagePermissions.requirements(of: kind).filter { $0.anyOf.contains { $0.contains("ReadWrite") } }
        #expect(writes.contains { requirement in requirement.anyOf.contains { applicationRows.contains($0) } }, "\(kind) vs \(page)")
    }

    @Test func theShippedRebuildGateListsWhatLaterStagesNeed() throws {
        let runbook = try Runbook.load(
            contentsOf: Fixtures.runbook("rebuild-new-tenant.yaml"), catalog: StageCatalog.specs,
            fileParameters: Fixtures.contosoParameters, builtins: FirstContact.builtins)
        let gate = try #require(runbook.stage("create-tenant")?.gate?.instructions)
        // Issue 13 item 1: the old hand-written list lacked these.
        for permission in [
            "Policy.Read.All", "UserAuthenticationMethod.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess",
            "Policy.ReadWrite.AuthenticationMethod",
        ] {
            #expect(gate.contains(permission), "\(permission) missing from the gate")
        }
        #expect(!gate.contains("${"))
        #expect(runbook.permissions == StagePermissions.leastPrivileged(for: runbook.stages.map(\.kind)))
        // Every permission the gate names satisfies its stages: a token with exactly that list lacks nothing.
        #expect(StagePermissions.missing(for: runbook.stages.map { ($0.id, $0.kind) }, granted: Set(runbook.permissions)).isEmpty)
    }

    /// The documented list (Docs/live-rebuild.md, the fake's default grants) covers every shipped runbook, and each runbook's generated list is
    /// no longer than needed: no permission whose ReadWrite form is also listed.
    @Test func theReadmeListCoversEveryShippedRunbook() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Runbooks").path)
        where name.hasSuffix(".yaml") {
            let runbook = try Runbook.load(
                contentsOf: Fixtures.runbook(name), catalog: StageCatalog.specs, fileParameters: Fixtures.contosoParameters,
                builtins: FirstContact.builtins)
            let missing = StagePermissions.missing(
                for: runbook.stages.map { ($0.id, $0.kind) }, granted: Set(FakeTenantPermissions.defaultGrants))
            #expect(missing.isEmpty, "\(name) needs \(missing.map(\.permission.leastPrivileged)) beyond the README's list")
            let list = Set(runbook.permissions)
            #expect(
                !list.contains { $0.contains(".Read.") && list.contains($0.replacingOccurrences(of: ".Read.", with: ".ReadWrite.")) },
                "\(name): \(list)")
        }
        // The list lives in the manual's live-rebuild page (the README links to it).
        let page = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Docs/live-rebuild.md"), encoding: .utf8)
        for permission in FakeTenantPermissions.defaultGrants {
            #expect(page.contains("`\(permission)`"), "\(permission) missing from Docs/live-rebuild.md")
        }
    }

    @Test func missingPermissionsNameTheirStages() {
        let missing = StagePermissions.missing(
            for: [("users", "users.create"), ("passes", "users.accessPasses"), ("ca", "conditionalAccess.create")],
            granted: ["Directory.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess", "Application.Read.All"])
        #expect(missing.map(\.permission.leastPrivileged) == ["UserAuthenticationMethod.ReadWrite.All", "Policy.Read.All"])
        #expect(missing.first?.stages == ["passes"])
    }
}

enum FirstContact {
    static let builtins = [
        "target.initialDomain": "drill.onmicrosoft.com", "target.tenantId": "t",
        "snapshot.initialDomain": "contoso.onmicrosoft.com", "snapshot.sourceTenantId": "s",
    ]
}

@Suite struct RunbookParameterTests {
    /// Issue 13 item 8: the shipped runbooks carry no Contoso default; without the values the runbook says where to put them.
    @Test(arguments: ["rebuild-new-tenant.yaml", "tabletop-ransomware.yaml", "conditional-access-only.yaml"])
    func operatorAndBreakGlassAreRequired(_ name: String) throws {
        let text = try String(contentsOf: Fixtures.runbook(name), encoding: .utf8)
        #expect(!text.lowercased().contains("contoso.com"), "\(name) still names a Contoso domain")
        #expect(!text.lowercased().contains("fabrikam"))
        let errors = try #require(throws: RunbookErrors.self) {
            try Runbook.load(contentsOf: Fixtures.runbook(name), catalog: StageCatalog.specs, builtins: FirstContact.builtins)
        }
        let operatorError = try #require(errors.errors.first { $0.problem.contains("`operator`") })
        #expect(operatorError.line > 0)
        #expect(operatorError.hint?.contains("parameters.yaml") == true)
        #expect(operatorError.hint?.contains("--params") == true)
    }

    @Test func commandLineValuesWinOverTheFileAndUndeclaredFileNamesAreIgnored() throws {
        let runbook = try Runbook.load(
            contentsOf: Fixtures.runbook("rebuild-new-tenant.yaml"), catalog: StageCatalog.specs,
            parameters: ["operator": "admin@fabrikam.example"],
            fileParameters: Fixtures.contosoParameters.merging(["notDeclared": "x"]) { a, _ in a },
            builtins: FirstContact.builtins)
        #expect(runbook.parameterValues["operator"] == "admin@fabrikam.example")
        #expect(runbook.parameterValues["breakGlass1"] == "bg-admin-01@contoso.onmicrosoft.com")
        #expect(runbook.stage("enable-ca")?.options.string("operator") == "admin@fabrikam.example")
    }

    @Test func parametersFilesAreReadWithLineNumbersForTheirProblems() throws {
        #expect(
            try RunbookParameterFile.parse("operator: a@b.example\nbreakGlass1: c@d.example\n", file: "p.yaml")
                == ["operator": "a@b.example", "breakGlass1": "c@d.example"])
        let errors = try #require(throws: RunbookErrors.self) {
            try RunbookParameterFile.parse("operator: a@b.example\nbreakGlass1:\n  - x\n", file: "p.yaml")
        }
        #expect(errors.errors.first?.line == 2)
        #expect(errors.errors.first?.file == "p.yaml")
        #expect(try RunbookParameterFile.beside(snapshotDirectory: Fixtures.contoso)["operator"] == "adm-aisha.bello@contoso.com")
    }

    /// Every custom domain of a snapshot that is not Contoso goes to the recovery domain without being listed.
    @Test func unlistedCustomDomainsGoToTheRecoveryDomain() throws {
        let directory = try TemporaryDirectory("other-tenant")
        let out = directory.url.appendingPathComponent("snapshot")
        _ = try TenantGenerator(
            TenantGenerator.Options(users: 60, seed: 7, name: "northwind", customDomains: ["northwind.example", "nw-labs.example"])
        )
        .write(to: out)
        let snapshot = try Snapshot.load(from: out)
        let runbook = try Runbook.load(
            contentsOf: Fixtures.runbook("rebuild-new-tenant.yaml"), catalog: StageCatalog.specs,
            parameters: [
                "operator": "bg-admin-01@northwind.onmicrosoft.com", "breakGlass1": "bg-admin-01@northwind.onmicrosoft.com",
                "breakGlass2": "bg-admin-02@northwind.onmicrosoft.com",
            ],
            builtins: [
                "target.initialDomain": "northwinddr.onmicrosoft.com", "target.tenantId": "t",
                "snapshot.initialDomain": "northwind.onmicrosoft.com", "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId,
            ])
        let prepared = try Executor.prepare(runbook, snapshot: snapshot)
        let users = try #require(prepared.first { $0.stage.kind == "users.create" })
        let domains = Set(users.plan.operations.compactMap { $0.naturalKey?.split(separator: "@").last.map(String.init) })
        #expect(domains == ["northwinddr.onmicrosoft.com"])
        let renames = try #require(prepared.first { $0.stage.kind == "users.rename" })
        #expect(Set(renames.plan.operations.compactMap { $0.detail["domain"]?.stringValue }) == ["northwind.example", "nw-labs.example"])
    }
}

@Suite struct ConditionalAccessBodyTests {
    static func policy(grant: JSONObject, conditions: JSONObject = [:]) -> JSONObject {
        [
            "id": "p1", "displayName": "Require strength", "state": "enabled",
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
            "conditions": .object(
                ["users": ["includeUsers": ["All"]], "applications": ["includeApplications": ["All"]]].merging(conditions) { _, new in new }
            ),
            "grantControls": .object(grant),
        ]
    }

    @Test func annotationsAreStrippedAtEveryDepthAndBuiltInStrengthsKeepTheirId() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let strength: JSONObject = [
            "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA", "policyType": "builtIn",
            "allowedCombinations": ["fido2"], "authenticationStrength@odata.context": "x",
        ]
        let source = Self.policy(grant: [
            "operator": "OR", "builtInControls": [], "authenticationStrength": .object(strength),
            "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
        ])
        let remapped = PolicyReferences.remap(source, snapshot: snapshot, idMap: IDMap([]))
        #expect(remapped.unresolved.isEmpty)
        let body = PolicyReferences.stripAnnotations(remapped.policy)
        #expect(body["@odata.context"] == nil)
        #expect(body["grantControls"]?["authenticationStrength@odata.context"] == nil)
        #expect(body["grantControls"]?["authenticationStrength"] == ["id": "00000000-0000-0000-0000-000000000004"])
        #expect(!JSONCoding.string(.object(body)).contains("@odata"))
    }

    @Test func customStrengthsTermsOfUseAndContextsAreRemappedOrReported() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let custom: JSONObject = [
            "id": "c0ffee00-0000-0000-0000-000000000001", "displayName": "Contoso FIDO only", "policyType": "custom",
            "allowedCombinations": ["fido2"],
        ]
        let source = Self.policy(
            grant: ["operator": "OR", "builtInControls": [], "authenticationStrength": .object(custom), "termsOfUse": ["tou-1"]],
            conditions: ["applications": ["includeApplications": [], "includeAuthenticationContextClassReferences": ["c1"]]])
        let unmapped = PolicyReferences.remap(source, snapshot: snapshot, idMap: IDMap([]))
        #expect(unmapped.unresolved.count == 3)
        #expect(unmapped.policy["grantControls"]?["authenticationStrength"] == nil)
        #expect(unmapped.policy["grantControls"]?["builtInControls"] == ["mfa"])  // never a grant that requires nothing
        #expect(unmapped.policy["grantControls"]?["termsOfUse"] == [])
        let mapped = PolicyReferences.remap(
            source, snapshot: snapshot, idMap: IDMap([]), strengths: ["c0ffee00-0000-0000-0000-000000000001": "new-strength"])
        #expect(mapped.policy["grantControls"]?["authenticationStrength"] == ["id": "new-strength"])
        #expect(mapped.unresolved.count == 2)
    }
}

extension ConditionalAccessBodyTests {
    /// Workload-identity conditions name service principals by object id: remapped through the ID map, or reported.
    @Test func clientApplicationReferencesAreRemapped() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let map = IDMap([
            IDMapEntry(
                objectType: .servicePrincipal, oldID: "sp-old", newID: "sp-new", naturalKey: nil, displayName: "daemon",
                how: .created, stageID: "service-principals")
        ])
        let source = Self.policy(
            grant: ["operator": "OR", "builtInControls": ["block"]],
            conditions: ["clientApplications": ["includeServicePrincipals": ["sp-old", "sp-gone"], "excludeServicePrincipals": []]])
        let remapped = PolicyReferences.remap(source, snapshot: snapshot, idMap: map)
        #expect(remapped.policy["conditions"]?["clientApplications"]?["includeServicePrincipals"] == ["sp-new"])
        #expect(remapped.unresolved == ["clientApplications.includeServicePrincipals sp-gone"])
    }
}

@Suite struct IdentifierURITests {
    @Test func urisWaitForTheirDomainAndSourceTenantHostsMoveToTheTargetsInitialDomain() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let original = try #require(snapshot.applications.first)
        var properties = original.properties
        properties["identifierUris"] = .array([
            .string("api://\(original.appId)"), "https://api.contoso.com/payroll",
            "https://payroll.contoso.onmicrosoft.com", "urn:contoso:payroll",
        ])
        let app = try Application(properties: properties)
        let before = IdentifierURIs.TargetDomains(verified: ["contosodr.onmicrosoft.com"], initial: "contosodr.onmicrosoft.com")
        let (now, deferred) = IdentifierURIs.split(app, newAppID: "NEW", snapshot: snapshot, target: before)
        #expect(now == ["api://NEW", "https://payroll.contosodr.onmicrosoft.com", "urn:contoso:payroll"])
        #expect(deferred == ["https://api.contoso.com/payroll"])
        let after = IdentifierURIs.TargetDomains(
            verified: ["contosodr.onmicrosoft.com", "contoso.com"], initial: "contosodr.onmicrosoft.com")
        let (all, none) = IdentifierURIs.split(app, newAppID: "NEW", snapshot: snapshot, target: after)
        #expect(all.count == 4)
        #expect(none.isEmpty)
        // The create body never carries identifier URIs: they follow once the new appId and the verified hosts are known.
        #expect(AppsCreate.createBody(app)["identifierUris"] == nil)
    }
}

@Suite struct ItemSixTests {
    @Test func theCreateBodiesLeaveOutWhatGraphV1Refuses() {
        #expect(!AppsCreate.federatedCredentialProperties.contains("claimsMatchingExpression"))
        #expect(!WritableProperties.user.contains("employeeLeaveDateTime"))
        #expect(AdminUnitsCreate.writable.contains("isMemberManagementRestricted"))
        #expect(Verify.selected["/users"]?.contains("jobTitle") == true)
        #expect(Verify.selected["/users"]?.hasPrefix("id,") == true)
    }

    @Test func heldDomainsAreToldFromMissingRecords() {
        let held = GraphError(
            kind: .http, status: 400, code: "Request_BadRequest",
            message: "Domain contoso.com is already verified in another tenant.", method: "POST", path: "/domains/contoso.com/verify")
        let notYet = GraphError(
            kind: .http, status: 400, code: "Request_BadRequest",
            message: "Domain verification failed: the TXT record was not found.", method: "POST", path: "/domains/contoso.com/verify")
        #expect(DomainsVerify.isHeldByAnotherTenant(held))
        #expect(!DomainsVerify.isHeldByAnotherTenant(notYet))
    }

    @Test func dynamicAdministrativeUnitsGetNoMemberAdds() throws {
        var snapshot = try Snapshot.load(from: Fixtures.contoso)
        let unit = try #require(snapshot.administrativeUnits.first { !$0.members.isEmpty })
        let index = try #require(snapshot.administrativeUnits.firstIndex { $0.id == unit.id })
        var properties = unit.properties
        properties["membershipType"] = "Dynamic"
        snapshot.administrativeUnits[index] = try AdministrativeUnit(properties: properties)
        let stage = try #require(
            try Runbook.parse(
                "name: m\nstages:\n  - id: m\n    kind: adminUnits.members\n", file: "m.yaml",
                catalog: StageCatalog.specs
            ).stage("m"))
        let plan = try AdminUnitsMembers(stage: stage).plan(snapshot, index: SnapshotIndex(snapshot))
        #expect(!plan.operations.contains { $0.sourceID == unit.id })
        #expect(plan.warnings.contains { $0.contains("dynamic") })
    }
}

/// Issue 13, "What must be shown": an app with an `https://<custom domain>/…` identifier URI and policies with a built-in
/// and a custom authentication strength come back whole against the strict new-tenant fake (realistic profile).
@Suite struct WholeOnceTheDomainVerifiesTests {
    static let builtIn: JSONObject = [
        "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA", "policyType": "builtIn",
        "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
        "authenticationStrength@odata.context":
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationStrengthPolicies/$entity",
    ]
    static let custom: JSONObject = [
        "id": "5f2c6a4e-0000-4000-8000-00000000c0de", "displayName": "Contoso FIDO2 only", "description": "Admins sign in with FIDO2 keys",
        "policyType": "custom", "allowedCombinations": ["fido2"],
    ]

    /// A copy of Contoso whose first app has custom-domain and onmicrosoft identifier URIs, and whose first two policies
    /// require a built-in and a custom authentication strength (as Graph returns them: whole objects, annotations).
    static func snapshot(in directory: TemporaryDirectory) throws -> URL {
        let url = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("applications.json", in: url) { data in
            var root = (try? JSONCoding.decode(data))?.objectValue ?? [:]
            var apps = root["value"]?.arrayValue ?? []
            var app = apps[0].objectValue ?? [:]
            let appId = app["appId"]?.stringValue ?? ""
            app["identifierUris"] = [
                .string("api://\(appId)"), "https://api.contoso.com/expenses", "https://expenses.contoso.onmicrosoft.com",
            ]
            apps[0] = .object(app)
            root["value"] = .array(apps)
            return (try? JSONCoding.encode(JSONValue.object(root))) ?? data
        }
        try Fixtures.rewrite("conditionalAccessPolicies.json", in: url) { data in
            var root = (try? JSONCoding.decode(data))?.objectValue ?? [:]
            var policies = root["value"]?.arrayValue ?? []
            for (index, strength) in [Self.builtIn, Self.custom].enumerated() {
                var policy = policies[index].objectValue ?? [:]
                var grant = policy["grantControls"]?.objectValue ?? [:]
                grant["builtInControls"] = []
                grant["authenticationStrength"] = .object(strength)
                grant["authenticationStrength@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#x"
                policy["grantControls"] = .object(grant)
                policies[index] = .object(policy)
            }
            root["value"] = .array(policies)
            return (try? JSONCoding.encode(JSONValue.object(root))) ?? data
        }
        return url
    }

    @Test func identifierURIsAndAuthenticationStrengthsComeBackWhole() async throws {
        let directory = try TemporaryDirectory("whole")
        let url = try Self.snapshot(in: directory)
        let (tenant, clock) = try Drill.realisticTenant(directory)
        let drill = try await Drill("whole", tenant: tenant, clock: clock, snapshot: url)
        #expect(try await drill.simulatedExecutor(clock).run() == .completed)

        let idMap = IDMap(try await drill.store.idMapEntries())
        let source = drill.snapshot.applications[0]
        let app = try #require(await tenant.objects(ofType: "application").first { $0["id"]?.stringValue == idMap.newID(for: source.id) })
        let newAppID = try #require(idMap.newAppID(forOldAppID: source.appId))
        #expect(
            Set(app["identifierUris"]?.stringArray ?? []) == [
                "api://\(newAppID)", "https://api.contoso.com/expenses",
                "https://expenses.\(tenant.initialDomain)",
            ])
        let policies = await tenant.objects(ofType: "conditionalAccessPolicy")
        let first = try #require(
            policies.first { $0["id"]?.stringValue == idMap.newID(for: drill.snapshot.conditionalAccessPolicies[0].id) })
        #expect(first["grantControls"]?["authenticationStrength"]?["id"] == "00000000-0000-0000-0000-000000000004")
        let second = try #require(
            policies.first { $0["id"]?.stringValue == idMap.newID(for: drill.snapshot.conditionalAccessPolicies[1].id) })
        let customID = try #require(second["grantControls"]?["authenticationStrength"]?["id"]?.stringValue)
        #expect(customID != Self.custom["id"]?.stringValue)
        #expect(
            await tenant.objects(ofType: "authenticationStrengthPolicy").contains {
                $0["id"]?.stringValue == customID
                    && $0["displayName"] == "Contoso FIDO2 only"
            })
        let followUps = try await drill.store.followUps().map(\.followUp)
        #expect(
            !followUps.contains {
                $0.category == "verify-difference" || $0.category == "ca-unresolved-reference" || $0.category == "identifier-uri-deferred"
            },
            "\(followUps.filter { $0.category != "credentials" }.map(\.message))")
    }
}

/// Item 7: the strict fake's lists really lag (a just-created object is missing from `$filter`), and a lost response of a
/// create without an alternate key still ends with exactly one object.
@Suite struct ListLagReconciliationTests {
    @Test(arguments: [
        ("/directory/administrativeUnits", "adminUnits.create"), ("/identity/conditionalAccess/namedLocations", "namedLocations.create"),
    ])
    func aLostCreateUnderListLagMakesNoDuplicate(_ collection: String, _ kind: String) async throws {
        let directory = try TemporaryDirectory("lag")
        // The lag is real: an object created a moment ago is not in the filtered list yet.
        // (No throttling here: a throttled list would wait out the lag before it is answered.)
        var profile = try FakeTenantProfile.named("realistic")
        profile.throttling = FakeTenantProfile.Throttling(enabled: false)
        let probeClock = VirtualClock()
        let probe = try FakeTenant(
            stateFile: nil, initialDomain: "contosodr.onmicrosoft.com", profile: profile, clock: { probeClock.instant })
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: probe), clock: probeClock)
        let body: JSONValue =
            collection.contains("namedLocations")
            ? [
                "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "probe", "isTrusted": false,
                "ipRanges": [["@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/24"]],
            ]
            : ["displayName": "probe"]
        _ = try await graph.send(GraphRequest("POST", collection, body: body))
        #expect(try await graph.list(collection, query: [QueryItem("$filter", "displayName eq 'probe'")]).isEmpty)

        // A whole rebuild with every create response of this kind lost: one object per source object.
        let (tenant, clock) = try Drill.realisticTenant(directory)
        let drill = try await Drill("lag-\(kind)", tenant: tenant, clock: clock)
        #expect(
            try await drill.simulatedExecutor(clock, drop: DroppedResponses(every: 1, method: "POST", pathSuffix: collection)).run()
                == .completed)
        let type = kind == "adminUnits.create" ? "administrativeUnit" : "namedLocation"
        let names = await tenant.objects(ofType: type).compactMap { $0["displayName"]?.stringValue }
        #expect(names.count == Set(names).count, "duplicates: \(names.sorted())")
        #expect(
            names.count == (kind == "adminUnits.create" ? drill.snapshot.administrativeUnits.count : drill.snapshot.namedLocations.count))
    }
}

/// Identifier URIs and UPNs in two steps: while a domain is held by the old tenant its URIs and users wait (follow-ups);
/// once it is released and verified, a second run puts both back.
@Suite struct HeldThenReleasedDomainTests {
    @Test func urisAndUsersComeBackOnceTheHeldDomainVerifies() async throws {
        let directory = try TemporaryDirectory("released")
        let url = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("applications.json", in: url) { data in
            var root = (try? JSONCoding.decode(data))?.objectValue ?? [:]
            var apps = root["value"]?.arrayValue ?? []
            var app = apps[0].objectValue ?? [:]
            app["identifierUris"] = [.string("api://\(app["appId"]?.stringValue ?? "")"), "https://api.fabrikam-labs.com/expenses"]
            apps[0] = .object(app)
            root["value"] = .array(apps)
            return (try? JSONCoding.encode(JSONValue.object(root))) ?? data
        }
        let (tenant, clock) = try Drill.realisticTenant(directory)
        try await tenant.holdDomain("fabrikam-labs.com")
        let first = try await Drill("first", tenant: tenant, clock: clock, snapshot: url)
        #expect(try await first.simulatedExecutor(clock).run() == .completed)
        let source = first.snapshot.applications[0]
        let appID = try #require(IDMap(try await first.store.idMapEntries()).newID(for: source.id))
        func uris() async -> [String] {
            await tenant.objects(ofType: "application").first { $0["id"]?.stringValue == appID }?["identifierUris"]?.stringArray ?? []
        }
        #expect(!(await uris()).contains("https://api.fabrikam-labs.com/expenses"))
        let waiting = try await first.store.followUps().map(\.followUp)
        #expect(waiting.contains { $0.category == "identifier-uri-deferred" && $0.message.contains("fabrikam-labs.com") })
        #expect(waiting.filter { $0.category == "domain-held" }.count == 1)
        let fabrikamUsers = first.snapshot.users.filter { $0.upnDomain == "fabrikam-labs.com" && !$0.isGuest && !$0.onPremisesSyncEnabled }
        #expect(!fabrikamUsers.isEmpty)

        // The old tenant lets the domain go; the operator verifies it and runs the runbook again.
        try await tenant.holdDomain("fabrikam-labs.com", held: false)
        try await tenant.publishDNSRecord(for: "fabrikam-labs.com")
        let second = try await Drill("second", tenant: tenant, clock: clock, snapshot: url)
        #expect(try await second.simulatedExecutor(clock).run() == .completed)
        #expect((await uris()).contains("https://api.fabrikam-labs.com/expenses"))
        let upns = Set(await tenant.objects(ofType: "user").compactMap { $0["userPrincipalName"]?.stringValue?.lowercased() })
        for user in fabrikamUsers { #expect(upns.contains(user.userPrincipalName.lowercased()), "\(user.userPrincipalName)") }
        #expect(await TenantPicture.of(tenant).duplicates.isEmpty)
    }
}

/// A lost create followed by failing look-ups: the write landed, its response was lost, and the look-ups that should
/// settle it then failed (the served fake restarting under the client). A failed look-up proves nothing, so no attempt
/// may write again before a look-up that waits out the list lag has settled it — within the run, or on resume when the
/// run gave up. Backoffs are short here, so the list lag (realistic profile) is still running when the look-ups recover.
@Suite struct LostCreateThenFailedLookupTests {
    /// Drops the response of the first create in `collection` after the tenant applied it, then refuses the next
    /// `refusals` reads of that collection.
    final class LostCreateThenRefusedReads: HTTPTransport {
        let inner: FakeTenantTransport
        let collection: String
        private let state: Mutex<(dropped: Bool, refusalsLeft: Int)>

        init(_ inner: FakeTenantTransport, collection: String, refusals: Int) {
            self.inner = inner
            self.collection = collection
            state = Mutex((false, refusals))
        }

        var carriesJSONValues: Bool { inner.carriesJSONValues }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let path = request.url.split(separator: "?").first.map(String.init) ?? request.url
            guard path.hasSuffix(collection) else { return try await inner.send(request) }
            if request.method == "GET",
                state.withLock({ state in
                    guard state.dropped, state.refusalsLeft > 0 else { return false }
                    state.refusalsLeft -= 1
                    return true
                })
            {
                throw TransportFailure.notSent("connection refused (injected)")
            }
            let response = try await inner.send(request)
            if request.method == "POST",
                state.withLock({ state in
                    defer { state.dropped = true }
                    return !state.dropped
                })
            {
                throw TransportFailure.noResponse("connection reset after the request was sent (injected)")
            }
            return response
        }
    }

    /// 32 refusals: the look-up after the lost write fails (6 transport attempts × 5 executor attempts), the run goes on.
    /// 10,000: every attempt fails, the run stops, and the resume must look the write up before writing.
    @Test(arguments: [32, 10_000])
    func aLostCreateWhoseLookupFailedMakesNoDuplicate(refusals: Int) async throws {
        let directory = try TemporaryDirectory("lookup-failed")
        let (tenant, clock) = try Drill.realisticTenant(directory)
        // Only the administrative units: with backoffs this short, other stages would give up on the realistic
        // profile's DNS delay and replication lag.
        let runbook = directory.path("admin-units.yaml")
        try Data(
            """
            lifeboat: 1
            name: admin-units-only
            stages:
              - id: admin-units
                kind: adminUnits.create
                title: Recreate administrative units

            """.utf8
        ).write(to: URL(fileURLWithPath: runbook))
        let drill = try await Drill("lookup-failed", tenant: tenant, clock: clock, runbook: runbook)
        func executor(_ transport: any HTTPTransport) -> Executor {
            var options = ExecutorOptions(outputDirectory: drill.directory.url)
            options.gates = .autoApprove(by: "tester")
            options.concurrency = 4
            let graph = GraphClient(
                baseURL: FakeTenantTransport.baseURL, transport: transport, clock: clock,
                retry: RetryPolicy(initialBackoff: 0.01, maxBackoff: 0.01))
            return Executor(
                runbook: drill.runbook, snapshot: drill.snapshot, graph: graph, store: drill.store, mode: .tabletop, options: options,
                simulatedClock: clock, simulatedEpoch: VirtualClock.epoch)
        }
        let collection = "/directory/administrativeUnits"
        var outcome = try await executor(
            LostCreateThenRefusedReads(FakeTenantTransport(tenant: tenant), collection: collection, refusals: refusals)
        ).run()
        if refusals > 1_000 {
            // The run gives up; the lost write is recorded as of unknown outcome, not as absent.
            #expect(outcome != .completed)
            let failed = try await drill.store.operations(stageID: "admin-units", state: .failed)
            #expect(failed.contains { $0.errorCode == CheckpointStore.outcomeUnknownCode }, "\(failed.map(\.errorCode))")
        }
        var runs = 1
        while outcome != .completed, runs < 3 {
            outcome = try await executor(FakeTenantTransport(tenant: tenant)).run()
            runs += 1
        }
        #expect(outcome == .completed)
        let names = await tenant.objects(ofType: "administrativeUnit").compactMap { $0["displayName"]?.stringValue }
        #expect(names.count == Set(names).count, "duplicates: \(names.sorted())")
        #expect(names.count == drill.snapshot.administrativeUnits.count)
    }
}
