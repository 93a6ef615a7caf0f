import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

extension FakeGraph {
    /// A fake tenant with a profile (the strict new-tenant state, withheld permissions, …).
    init(profile: FakeTenantProfile) throws {
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", profile: profile)
        self.init(
            tenant: tenant,
            graph: GraphClient(
                baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant),
                retry: RetryPolicy(maxTransientAttempts: 1, initialBackoff: 0.001, maxBackoff: 0.001)))
    }

    static func newTenant(_ state: FakeTenantProfile.NewTenant = .init()) throws -> FakeGraph {
        var profile = FakeTenantProfile.fast
        profile.newTenant = state
        return try FakeGraph(profile: profile)
    }

    /// Sends a request and answers its status and Graph error code (no retries, no throwing).
    func attempt(_ method: String, _ path: String, query: [QueryItem] = [], body: JSONValue? = nil, headers: [String: String] = [:]) async
        -> (status: Int, code: String?)
    {
        do {
            let response = try await graph.send(GraphRequest(method, path, query: query, headers: headers, body: body))
            return (response.status, nil)
        } catch let error as GraphError {
            return (error.status, error.code)
        } catch {
            return (-1, "\(error)")
        }
    }

    static let policy: JSONValue = [
        "displayName": "Require MFA", "state": "enabled",
        "conditions": ["users": ["includeUsers": ["All"]], "applications": ["includeApplications": ["All"]]],
        "grantControls": ["operator": "OR", "builtInControls": ["mfa"]],
    ]
}

/// A new tenant's starting state (profile section `newTenant`), each rule with the reference page it comes from.
@Suite struct NewTenantTests {
    /// identitysecuritydefaultsenforcementpolicy-get.md, -update.md; conditionalaccessroot-post-policies.md (hostile choice: 400 while on).
    @Test func securityDefaultsAreOnAndRefuseConditionalAccessUntilTurnedOff() async throws {
        let fake = try FakeGraph.newTenant(.init(conditionalAccessLicensed: true))
        let policy = try await fake.graph.get("/policies/identitySecurityDefaultsEnforcementPolicy")
        #expect(policy["isEnabled"]?.boolValue == true)
        #expect(policy["id"]?.stringValue == "00000000-0000-0000-0000-000000000005")
        let refused = await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy)
        #expect(refused.status == 400 && refused.code == "BadRequest")
        let readOnly = await fake.attempt("PATCH", "/policies/identitySecurityDefaultsEnforcementPolicy", body: ["displayName": "x"])
        #expect(readOnly.status == 400)
        let off = await fake.attempt("PATCH", "/policies/identitySecurityDefaultsEnforcementPolicy", body: ["isEnabled": false])
        #expect(off.status == 204)
        #expect(try await fake.graph.get("/policies/identitySecurityDefaultsEnforcementPolicy")["isEnabled"]?.boolValue == false)
        let created = await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy)
        #expect(created.status == 201)
    }

    /// subscribedsku-list.md, subscribedsku.md (servicePlans); conditionalaccessroot-post-policies.md (hostile choice: 403 without P1/P2).
    @Test func conditionalAccessNeedsAPremiumLicence() async throws {
        let fake = try FakeGraph.newTenant(.init(securityDefaults: false))
        let refused = await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy)
        #expect(refused.status == 403 && refused.code == "Authorization_RequestDenied")
        #expect(try await fake.graph.get("/subscribedSkus")["value"]?.arrayValue?.isEmpty == true)
        try await fake.tenant.addSubscribedSku(skuId: "078d2b04-f1bd-4111-bbd4-b4b1b354cef4", skuPartNumber: "AAD_PREMIUM", units: 5)
        let skus = try await fake.graph.get("/subscribedSkus")["value"]?.arrayValue ?? []
        #expect(skus.first?["servicePlans"]?.arrayValue?.first?["servicePlanName"]?.stringValue == "AAD_PREMIUM")
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy).status == 201)

        let licensed = try FakeGraph.newTenant(.init(securityDefaults: false, conditionalAccessLicensed: true))
        let listed = try await licensed.graph.get("/subscribedSkus")["value"]?.arrayValue ?? []
        #expect(listed.contains { $0["skuPartNumber"]?.stringValue == "AAD_PREMIUM_P2" })
    }

    /// temporaryaccesspassauthenticationmethodconfiguration-get.md, -update.md, authentication-post-temporaryaccesspassmethods.md,
    /// authenticationmethodspolicy-get.md.
    @Test func temporaryAccessPassIsDisabledUntilThePolicyEnablesItForTheUser() async throws {
        let fake = try FakeGraph.newTenant()
        let user = try await fake.createUser("ada")
        let configuration = try await fake.graph.get(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass")
        #expect(configuration["state"]?.stringValue == "disabled")
        let policy = try await fake.graph.get("/policies/authenticationMethodsPolicy")
        #expect(policy["authenticationMethodConfigurations"]?.arrayValue?.first?["id"]?.stringValue == "TemporaryAccessPass")
        let pass: JSONValue = ["lifetimeInMinutes": 60, "isUsableOnce": false]
        let disabled = await fake.attempt("POST", "/users/\(user)/authentication/temporaryAccessPassMethods", body: pass)
        #expect(disabled.status == 400 && disabled.code == "BadRequest")

        // Enabled for one group only (lower-case id segment, as the update page's example spells it).
        let group = try await fake.createGroup("tap-users")
        let enable: JSONValue = [
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "state": "enabled",
            "includeTargets": [["targetType": "group", "id": .string(group), "isRegistrationRequired": false]],
        ]
        #expect(
            await fake.attempt(
                "PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", body: enable
            ).status == 204)
        let badState = await fake.attempt(
            "PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            body: ["state": "on"])
        #expect(badState.status == 400)
        let untargeted = await fake.attempt("POST", "/users/\(user)/authentication/temporaryAccessPassMethods", body: pass)
        #expect(untargeted.status == 400 && untargeted.code == "BadRequest")
        _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(user)]))
        let tooLong = await fake.attempt(
            "POST", "/users/\(user)/authentication/temporaryAccessPassMethods", body: ["lifetimeInMinutes": 1440])
        #expect(tooLong.status == 400)
        #expect(await fake.attempt("POST", "/users/\(user)/authentication/temporaryAccessPassMethods", body: pass).status == 201)
    }

    /// domain-verify.md (silent on domains held elsewhere: hostile choice, verify fails for good).
    @Test func heldDomainsNeverVerify() async throws {
        let fake = try FakeGraph.newTenant(.init(heldDomains: ["contoso.com"]))
        _ = try await fake.graph.send(GraphRequest("POST", "/domains", body: ["id": "contoso.com"]))
        try await fake.tenant.publishDNSRecord(for: "contoso.com")
        let held = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/domains/contoso.com/verify"))
        }
        #expect(held?.code == "Request_BadRequest")
        #expect(held?.message.contains("already verified in another tenant") == true)

        _ = try await fake.graph.send(GraphRequest("POST", "/domains", body: ["id": "fabrikam.com"]))
        try await fake.tenant.publishDNSRecord(for: "fabrikam.com")
        try await fake.tenant.holdDomain("fabrikam.com")
        #expect(await fake.attempt("POST", "/domains/fabrikam.com/verify").status == 400)
        try await fake.tenant.holdDomain("fabrikam.com", held: false)
        #expect(await fake.attempt("POST", "/domains/fabrikam.com/verify").status == 200)
    }

    /// Without the section the old permissive start stays: security defaults off, CA allowed, TAP enabled.
    @Test func withoutTheSectionTheTenantStartsPermissive() async throws {
        let fake = try FakeGraph()
        #expect(try await fake.graph.get("/policies/identitySecurityDefaultsEnforcementPolicy")["isEnabled"]?.boolValue == false)
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy).status == 201)
        let user = try await fake.createUser("ada")
        #expect(
            await fake.attempt("POST", "/users/\(user)/authentication/temporaryAccessPassMethods", body: ["lifetimeInMinutes": 480]).status
                == 201)
        #expect(try FakeTenantProfile.named("fast").newTenant == nil)
        // The engine branch (issue 13) flipped realistic and chaos to a new tenant's starting state, as the contract says.
        for name in ["realistic", "chaos"] {
            #expect(
                try FakeTenantProfile.named(name).newTenant
                    == FakeTenantProfile.NewTenant(
                        securityDefaults: true, conditionalAccessLicensed: true,
                        temporaryAccessPassEnabled: false, heldDomains: []))
        }
        // The permissive start allows Conditional Access, so it lists an Entra ID P1 SKU (subscribedsku.md: servicePlans).
        let skus = try await fake.graph.get("/subscribedSkus")["value"]?.arrayValue ?? []
        #expect(skus.contains { $0["servicePlans"]?.arrayValue?.first?["servicePlanName"]?.stringValue == "AAD_PREMIUM" })
    }

    /// authenticationstrengthroot-post-policies.md, authenticationstrengthroot-list-policies.md, authenticationstrengthpolicy.md:
    /// built-in strengths exist, custom ones are created with flags-enum combinations, CA references one by id only.
    @Test func authenticationStrengthsAreCreatedAndReferencedByID() async throws {
        let fake = try FakeGraph()
        let listed = try await fake.graph.get("/policies/authenticationStrengthPolicies")["value"]?.arrayValue ?? []
        #expect(listed.contains { $0["id"]?.stringValue == "00000000-0000-0000-0000-000000000002" })
        let bad = await fake.attempt(
            "POST", "/policies/authenticationStrengthPolicies",
            body: ["displayName": "x", "allowedCombinations": ["password,carrierPigeon"]])
        #expect(bad.status == 400)
        let created = try await fake.graph.send(
            GraphRequest(
                "POST", "/policies/authenticationStrengthPolicies",
                body: [
                    "displayName": "Contoso strong", "allowedCombinations": ["fido2", "password,microsoftAuthenticatorPush"],
                ])
        ).object
        #expect(created["policyType"]?.stringValue == "custom")
        var policy = FakeGraph.policy.objectValue!
        policy["grantControls"] = ["operator": "OR", "authenticationStrength": ["id": created["id"]!]]
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(policy)).status == 201)
        policy["grantControls"] = ["operator": "OR", "authenticationStrength": ["id": "00000000-0000-0000-0000-0000000000ff"]]
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(policy)).status == 400)
        #expect(await fake.attempt("DELETE", "/policies/authenticationStrengthPolicies/00000000-0000-0000-0000-000000000002").status == 400)
    }

    @Test func profileYAMLReadsTheNewTenantSection() throws {
        let directory = try TemporaryDirectory("profile")
        let path = directory.path("strict.yaml")
        try """
        name: strict
        newTenant:
          conditionalAccessLicensed: true
          heldDomains: [contoso.com]
        permissions: [User.ReadWrite.All]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let profile = try FakeTenantProfile.named(path)
        #expect(
            profile.newTenant
                == .init(
                    securityDefaults: true, conditionalAccessLicensed: true, temporaryAccessPassEnabled: false, heldDomains: ["contoso.com"]
                ))
        #expect(profile.permissions == ["User.ReadWrite.All"])
    }
}

/// Application permissions (`roles`) per route, from each route's reference page (FakeTenantPermissions).
@Suite struct PermissionTests {
    /// user-post-users.md (User.ReadWrite.All, Directory.ReadWrite.All), user-list.md (reads).
    @Test func aRouteWithoutItsPermissionAnswers403() async throws {
        var profile = FakeTenantProfile.fast
        profile.permissions = FakeTenantPermissions.defaultGrants.filter { $0 != "User.ReadWrite.All" }
        let fake = try FakeGraph(profile: profile)
        let refused = await fake.attempt("POST", "/users", body: fake.user("ada"))
        #expect(refused.status == 403 && refused.code == "Authorization_RequestDenied")
        // Directory.Read.All still reads users (user-list.md).
        #expect(await fake.attempt("GET", "/users").status == 200)
        #expect(fake.tenant.grantedPermissions.contains("User.ReadWrite.All") == false)
    }

    /// conditionalaccessroot-post-policies.md: Policy.ReadWrite.ConditionalAccess and Application.Read.All (with Policy.Read.All).
    @Test func conditionalAccessWritesNeedAllOfTheirPermissions() async throws {
        var profile = FakeTenantProfile.fast
        profile.permissions = ["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]
        let fake = try FakeGraph(profile: profile)
        #expect(await fake.attempt("GET", "/identity/conditionalAccess/policies").status == 200)
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy).status == 403)
        profile.permissions = ["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Application.ReadWrite.All"]
        let granted = try FakeGraph(profile: profile)
        #expect(await granted.attempt("POST", "/identity/conditionalAccess/policies", body: FakeGraph.policy).status == 201)
    }

    /// group-post-members.md: GroupMember.ReadWrite.All and the member type's permission; a $batch checks each part.
    @Test func memberAddsNeedGroupMemberAndTheMembersPermission() async throws {
        let fake = try FakeGraph()
        let user = try await fake.createUser("ada"), group = try await fake.createGroup("g")
        var profile = FakeTenantProfile.fast
        profile.permissions = FakeTenantPermissions.defaultGrants.filter { $0 != "GroupMember.ReadWrite.All" }
        let request = HTTPRequest(
            method: "POST", url: "\(FakeTenantTransport.baseURL)/groups/\(group)/members/$ref",
            headers: ["Content-Type": "application/json"],
            body: try JSONCoding.encode(["@odata.id": fake.ref(user)] as JSONValue))
        let refused = await fake.tenant.handle(request, roles: Set(profile.permissions!))
        #expect(refused.status == 403)
        let batch: JSONValue = [
            "requests": [
                [
                    "id": "1", "method": "POST", "url": .string("/groups/\(group)/members/$ref"),
                    "headers": ["Content-Type": "application/json"], "body": ["@odata.id": fake.ref(user)],
                ]
            ]
        ]
        let batched = await fake.tenant.handle(
            HTTPRequest(
                method: "POST", url: "\(FakeTenantTransport.baseURL)/$batch",
                headers: ["Content-Type": "application/json"], body: try JSONCoding.encode(batch)),
            roles: Set(profile.permissions!))
        let parts = try JSONCoding.decode(batched.body)["responses"]?.arrayValue ?? []
        #expect(parts.first?["status"]?.numberValue == 403)
        let allowed = await fake.tenant.handle(request, roles: Set(FakeTenantPermissions.defaultGrants))
        #expect(allowed.status == 204)
    }

    /// `fake-tenant serve --grant/--withhold`: grants replace the defaults, withheld ones are taken out.
    @Test func servedRolesFromGrantAndWithhold() {
        let defaults = Set(FakeTenantPermissions.defaultGrants)
        #expect(
            Set(FakeTenantPermissions.roles(defaults: defaults, granted: [], withheld: ["User.ReadWrite.All"]))
                == defaults.subtracting(["User.ReadWrite.All"]))
        #expect(FakeTenantPermissions.roles(defaults: defaults, granted: ["User.Read.All"], withheld: []) == ["User.Read.All"])
    }

    /// Every route Lifeboat uses passes with the default grants (the README's list).
    @Test func defaultGrantsOpenEveryRouteTheEngineUses() async throws {
        let fake = try FakeGraph()
        for path in [
            "/users", "/groups", "/applications", "/servicePrincipals", "/oauth2PermissionGrants",
            "/roleManagement/directory/roleDefinitions",
            "/roleManagement/directory/roleAssignments", "/identity/conditionalAccess/policies",
            "/identity/conditionalAccess/namedLocations",
            "/directory/administrativeUnits", "/domains", "/organization", "/subscribedSkus", "/users/delta", "/groups/delta",
            "/directory/deletedItems/microsoft.graph.user", "/policies/identitySecurityDefaultsEnforcementPolicy",
            "/policies/authenticationMethodsPolicy",
        ] {
            #expect(await fake.attempt("GET", path).status == 200, "\(path)")
        }
    }
}
