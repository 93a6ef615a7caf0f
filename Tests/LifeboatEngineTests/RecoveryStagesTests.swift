import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

extension Drill {
    /// A tenant on a simulated clock with the realistic profile (DNS records published after 30 minutes).
    static func realisticTenant(_ directory: TemporaryDirectory) throws -> (FakeTenant, VirtualClock) {
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, initialDomain: "contosodr.onmicrosoft.com", profile: FakeTenantProfile.named("realistic"),
            clock: { clock.instant })
        return (tenant, clock)
    }

    func simulatedExecutor(_ clock: VirtualClock? = nil, drop: DroppedResponses? = nil) -> Executor {
        let clock = clock ?? self.clock
        var options = ExecutorOptions(outputDirectory: directory.url)
        options.gates = .autoApprove(by: "tester")
        options.concurrency = 4
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant, dropResponses: drop), clock: clock)
        return Executor(
            runbook: runbook, snapshot: snapshot, graph: graph, store: store, mode: .tabletop, options: options,
            simulatedClock: clock, simulatedEpoch: VirtualClock.epoch)
    }
}

@Suite struct FullRebuildTests {
    @Test func rebuildOfTheExampleVerifiesEveryRestoredObject() async throws {
        let directory = try TemporaryDirectory("full")
        let (tenant, clock) = try Drill.realisticTenant(directory)
        let drill = try await Drill("full", tenant: tenant, clock: clock)
        #expect(try await drill.simulatedExecutor(clock).run() == .completed)

        let followUps = try await drill.store.followUps()
        let differences = followUps.filter { $0.followUp.category == "verify-difference" }
        #expect(differences.isEmpty, "\(differences.map(\.followUp.message))")
        let verify = try await drill.store.operationCounts(stageID: "verify")
        #expect(verify[.done, default: 0] > 60)

        // What could not come back is named, with why.
        let categories = Set(followUps.map(\.followUp.category))
        for expected in ["synced-object", "credentials", "guest-redemption", "client-secret"] {
            #expect(categories.contains(expected), "missing follow-up \(expected)")
        }
        // Domains were verified (the simulated operator published the TXT records) and UPNs moved back.
        let users = await tenant.objects(ofType: "user")
        #expect(
            users.contains {
                $0["userPrincipalName"]?.stringValue == "amelia.hart@contoso.com"
                    || ($0["userPrincipalName"]?.stringValue?.hasSuffix("@contoso.com") ?? false)
            })
        #expect(await tenant.objects(ofType: "domain").filter { $0["isVerified"] == true }.count == 3)
        #expect(clock.elapsed > 2 * 3_600)  // the 2 h gate plus DNS and throttling waits, all simulated
        #expect(await TenantPicture.of(tenant).duplicates.isEmpty)
    }

    @Test func conditionalAccessReferencesAreRemapped() async throws {
        let directory = try TemporaryDirectory("ca")
        let (tenant, clock) = try Drill.realisticTenant(directory)
        let drill = try await Drill("ca", tenant: tenant, clock: clock)
        #expect(try await drill.simulatedExecutor(clock).run() == .completed)
        let idMap = IDMap(try await drill.store.idMapEntries())
        let policies = await tenant.objects(ofType: "conditionalAccessPolicy")
        for source in drill.snapshot.conditionalAccessPolicies {
            let restored = try #require(policies.first { $0["displayName"] == source.properties["displayName"] })
            let users = restored["conditions"]?["users"]
            for key in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups"] {
                let expected = (source.properties["conditions"]?["users"]?[key]?.stringArray ?? []).map { idMap.newID(for: $0) ?? $0 }
                #expect(Set(users?[key]?.stringArray ?? []) == Set(expected), "\(source.displayName) \(key)")
            }
            #expect(users?["includeRoles"] == source.properties["conditions"]?["users"]?["includeRoles"])  // template ids are stable
            for key in ["includeLocations", "excludeLocations"] {
                let expected = (source.properties["conditions"]?["locations"]?[key]?.stringArray ?? []).map { idMap.newID(for: $0) ?? $0 }
                #expect(Set(restored["conditions"]?["locations"]?[key]?.stringArray ?? []) == Set(expected), "\(source.displayName) \(key)")
            }
            #expect(restored["state"]?.stringValue != "enabled" || source.state == "enabled")
        }
        // After the gate, policies are back in their source state: blocking legacy protocols or a few countries locks nobody out.
        let byName = Dictionary(uniqueKeysWithValues: policies.map { ($0["displayName"]!.stringValue!, $0["state"]!.stringValue!) })
        #expect(byName["Block legacy authentication"] == "enabled")
        #expect(byName["Require compliant device for Expenses"] == "enabledForReportingButNotEnforced")
        // Policies back in their source state no longer carry the "left in report-only" follow-up.
        let reportOnly = try await drill.store.followUps().filter { $0.followUp.category == "ca-report-only" }
        #expect(reportOnly.isEmpty, "\(reportOnly.map(\.followUp.message))")
    }
}

/// Each stage kind's writes, identified by method and path, with every response lost after the write applied.
struct LostResponses: Sendable, CustomTestStringConvertible {
    var stage: String
    var method: String
    var path: String
    /// Match `path` only at the end of the URL's path (the collection itself, not its sub-resources).
    var suffix = false
    var testDescription: String { stage }

    static let all: [LostResponses] = [
        .init(stage: "domains.add", method: "POST", path: "/v1.0/domains"),
        .init(stage: "domains.verify", method: "POST", path: "/verify"),
        .init(stage: "users.create", method: "POST", path: "/v1.0/users", suffix: true),
        .init(stage: "users.manager", method: "PUT", path: "/manager/$ref"),
        .init(stage: "users.rename", method: "PATCH", path: "/v1.0/users/"),
        .init(stage: "guests.invite", method: "POST", path: "/invitations"),
        .init(stage: "groups.create", method: "PATCH", path: "/groups(uniqueName="),
        .init(stage: "groups.members", method: "PATCH", path: "/v1.0/groups/"),
        .init(stage: "groups.owners", method: "POST", path: "/owners/$ref"),
        .init(stage: "adminUnits.create", method: "POST", path: "/directory/administrativeUnits"),
        .init(stage: "adminUnits.members", method: "POST", path: "/members/$ref"),
        .init(stage: "roles.definitions", method: "POST", path: "/roleDefinitions"),
        .init(stage: "roles.assign", method: "POST", path: "/roleAssignments"),
        .init(stage: "namedLocations.create", method: "POST", path: "/namedLocations"),
        .init(stage: "conditionalAccess.create", method: "POST", path: "/conditionalAccess/policies"),
        .init(stage: "conditionalAccess.enable", method: "PATCH", path: "/conditionalAccess/policies/"),
        // Issue 13's stages for a new tenant's starting state.
        .init(stage: "securityDefaults.disable", method: "PATCH", path: "/identitySecurityDefaultsEnforcementPolicy"),
        .init(stage: "temporaryAccessPass.enable", method: "PATCH", path: "/TemporaryAccessPass"),
    ]
}

@Suite struct ReconciliationTests {
    @Test(arguments: LostResponses.all)
    func aLostResponseIsReconciledWithoutDuplicates(_ lost: LostResponses) async throws {
        let referenceDirectory = try TemporaryDirectory("ref")
        let (referenceTenant, referenceClock) = try Drill.realisticTenant(referenceDirectory)
        let reference = try await Drill("reference", tenant: referenceTenant, clock: referenceClock)
        #expect(try await reference.simulatedExecutor(referenceClock).run() == .completed)

        let directory = try TemporaryDirectory("lost")
        let (tenant, clock) = try Drill.realisticTenant(directory)
        let drill = try await Drill("lost", tenant: tenant, clock: clock)
        let drop =
            lost.suffix
            ? DroppedResponses(every: 1, method: lost.method, pathSuffix: lost.path)
            : DroppedResponses(every: 1, method: lost.method, pathContains: lost.path)
        #expect(try await drill.simulatedExecutor(clock, drop: drop).run() == .completed)

        let expected = await TenantPicture.of(referenceTenant)
        let actual = await TenantPicture.of(tenant)
        #expect(actual.duplicates.isEmpty, "\(actual.duplicates)")
        #expect(actual == expected, "\(actual.differences(from: expected).prefix(10))")
        #expect(try await drill.store.idMapEntries().count == (try await reference.store.idMapEntries().count))
    }
}

@Suite struct InPlaceRestoreTests {
    @Test func deletedObjectsComeBackAndUntouchedOnesStayUntouched() async throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, tenantID: snapshot.manifest.sourceTenantId, initialDomain: "contoso.onmicrosoft.com",
            profile: FakeTenantProfile.named("realistic"), clock: { clock.instant })
        try await tenant.importSnapshot(snapshot)
        // The realistic profile starts as a new tenant (Security Defaults on); this one ran Conditional Access, so they were off.
        try await tenant.setSecurityDefaults(enabled: false)

        let users = snapshot.users.filter { !$0.isGuest && !$0.onPremisesSyncEnabled }
        let recent = users[3], purged = users[5], guest = snapshot.users.first { $0.isGuest }!
        let security = snapshot.groups.first { !$0.isUnified && !$0.isDynamic && $0.members.count > 1 && $0.owners.count > 0 }!
        let unified = snapshot.groups.first(where: \.isUnified)!
        let unit = snapshot.administrativeUnits[0]
        let location = snapshot.namedLocations[0]
        let policy = snapshot.conditionalAccessPolicies.first {
            $0.properties["conditions"]?["locations"]?["excludeLocations"]?.stringArray?.contains(location.id) == true
                || $0.properties["conditions"]?["locations"]?["includeLocations"]?.stringArray?.contains(location.id) == true
        }!
        let deleted: Set<String> = [recent.id, purged.id, guest.id, security.id, unified.id, unit.id, location.id, policy.id]
        let untouchedBefore = Dictionary(
            uniqueKeysWithValues: await tenant.objects(ofType: "user").filter { !deleted.contains($0["id"]!.stringValue!) }
                .map { ($0["id"]!.stringValue!, $0) })
        try await tenant.delete(ids: [recent.id, unified.id, unit.id, security.id, location.id, policy.id])
        try await tenant.delete(ids: [purged.id], deletedDaysAgo: 31)
        try await tenant.delete(ids: [guest.id], purge: true)
        let writesBefore = await tenant.writeCount

        let drill = try await Drill("inplace", tenant: tenant, clock: clock, runbook: "restore-in-place.yaml")
        #expect(try await drill.simulatedExecutor(clock).run() == .completed)

        let idMap = IDMap(try await drill.store.idMapEntries())
        // Recycle-bin objects keep their original ids.
        for object in [recent.id, unified.id, unit.id] {
            #expect(idMap.entry(for: object)?.how == .restored, "\(object)")
            #expect(idMap.newID(for: object) == object)
        }
        // What was gone for good is recreated with new ids, and relinked.
        for object in [purged.id, guest.id, security.id, location.id, policy.id] {
            let entry = try #require(idMap.entry(for: object))
            #expect(entry.how == .created)
            #expect(entry.newID != object)
        }
        let newSecurity = idMap.newID(for: security.id)!
        #expect(Set(await tenant.relationship("members", of: newSecurity)) == Set(security.members.compactMap { idMap.newID(for: $0.id) }))
        #expect(Set(await tenant.relationship("members", of: unified.id)) == Set(unified.members.compactMap { idMap.newID(for: $0.id) }))
        let restoredPolicy = try #require(
            await tenant.objects(ofType: "conditionalAccessPolicy").first { $0["displayName"] == policy.properties["displayName"] })
        let locations =
            (restoredPolicy["conditions"]?["locations"]?["excludeLocations"]?.stringArray ?? [])
            + (restoredPolicy["conditions"]?["locations"]?["includeLocations"]?.stringArray ?? [])
        #expect(locations.contains(idMap.newID(for: location.id)!))

        // Nothing that was not deleted was touched.
        for (id, before) in untouchedBefore {
            let after = await tenant.objects(ofType: "user").first { $0["id"]?.stringValue == id }
            #expect(after == before, "user \(id) changed")
        }
        let differences = try await drill.store.followUps().filter { $0.followUp.category == "verify-difference" }
        #expect(differences.isEmpty, "\(differences.map(\.followUp.message))")
        #expect(await tenant.writeCount > writesBefore)
    }
}

@Suite struct LockoutGuardTests {
    @Test func refusesPoliciesThatBlockTheOperatorOrEveryBreakGlassAccount() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let lockout = LockoutGuardProbe(snapshot)
        let operatorUPN = "adm-aisha.bello@contoso.com"
        let breakGlass = ["bg-admin-01@contoso.onmicrosoft.com", "bg-admin-02@contoso.onmicrosoft.com"]
        func policy(include: [String] = ["All"], exclude: [String] = [], clients: [String] = ["all"], locations: [String]? = nil)
            -> JSONObject
        {
            var conditions: JSONObject = [
                "users": ["includeUsers": .array(include.map(JSONValue.string)), "excludeUsers": .array(exclude.map(JSONValue.string))],
                "applications": ["includeApplications": ["All"]], "clientAppTypes": .array(clients.map(JSONValue.string)),
            ]
            if let locations { conditions["locations"] = ["includeLocations": .array(locations.map(JSONValue.string))] }
            return [
                "id": "p", "displayName": "Block", "state": "enabled", "conditions": .object(conditions),
                "grantControls": ["operator": "OR", "builtInControls": ["block"]],
            ]
        }
        let operatorID = snapshot.users.first { $0.userPrincipalName == operatorUPN }!.id
        let bgIDs = breakGlass.map { upn in snapshot.users.first { $0.userPrincipalName == upn }!.id }
        #expect(try lockout.refusal(policy(), operatorUPN: operatorUPN, breakGlass: breakGlass)?.contains("operator") == true)
        #expect(
            try lockout.refusal(policy(exclude: [operatorID]), operatorUPN: operatorUPN, breakGlass: breakGlass)?.contains("break-glass")
                == true)
        #expect(try lockout.refusal(policy(exclude: [operatorID, bgIDs[0]]), operatorUPN: operatorUPN, breakGlass: breakGlass) == nil)
        // Blocking legacy protocols, or a few countries, locks nobody out.
        #expect(
            try lockout.refusal(policy(clients: ["exchangeActiveSync", "other"]), operatorUPN: operatorUPN, breakGlass: breakGlass) == nil)
        #expect(try lockout.refusal(policy(locations: ["some-location-id"]), operatorUPN: operatorUPN, breakGlass: breakGlass) == nil)
    }
}

@Suite struct InPlaceApplicationsTests {
    @Test func survivingApplicationsAreAdoptedNotCopied() async throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, tenantID: snapshot.manifest.sourceTenantId, initialDomain: "contoso.onmicrosoft.com",
            clock: { clock.instant })
        try await tenant.importSnapshot(snapshot)
        let before = await tenant.objects(ofType: "application")
        let drill = try await Drill("apps-in-place", tenant: tenant, clock: clock, runbook: "apps-and-consents.yaml")
        #expect(try await drill.simulatedExecutor().run() == .completed)
        let after = await tenant.objects(ofType: "application")
        #expect(after.count == before.count)
        let entries = try await drill.store.idMapEntries().filter { $0.objectType == .application }
        #expect(entries.count == snapshot.applications.count)
        #expect(entries.allSatisfy { $0.how == .adopted && $0.newID == $0.oldID })
    }
}
