import Foundation
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct TenantGeneratorTests {
    func generate(_ directory: TemporaryDirectory, _ name: String, users: Int = 2000, seed: UInt64 = 7) throws -> TenantGenerator.Summary {
        try TenantGenerator(.init(users: users, seed: seed)).write(to: directory.url.appendingPathComponent(name))
    }

    @Test func sameSeedWritesTheSameBytes() throws {
        let directory = try TemporaryDirectory("generate")
        _ = try generate(directory, "a")
        _ = try generate(directory, "b")
        _ = try generate(directory, "c", seed: 8)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path("a")).sorted()
        #expect(files.contains("manifest.json") && files.count == 14)
        for file in files {
            let a = try Data(contentsOf: directory.url.appendingPathComponent("a/\(file)"))
            let b = try Data(contentsOf: directory.url.appendingPathComponent("b/\(file)"))
            #expect(a == b, "\(file) differs between two runs with the same seed")
        }
        // The manifest is the one Snapshot.writeManifest writes for the same files.
        let generator = try TenantGenerator(.init(users: 2000, seed: 7))
        let written = try Data(contentsOf: directory.url.appendingPathComponent("a/manifest.json"))
        let tenantID = try JSONCoding.decode(SnapshotManifest.self, from: written).sourceTenantId
        _ = try Snapshot.writeManifest(
            in: directory.url.appendingPathComponent("b"), sourceTenantId: tenantID,
            sourceInitialDomain: "contoso.onmicrosoft.com", capturedAt: generator.options.capturedAt,
            toolVersion: generator.toolVersion)
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("b/manifest.json")) == written)
        let users = { (name: String) in try Data(contentsOf: directory.url.appendingPathComponent("\(name)/users.json")) }
        #expect(try users("a") != users("c"))
    }

    @Test func refusesToOverwriteAndBadOptions() throws {
        let directory = try TemporaryDirectory("generate")
        _ = try generate(directory, "a", users: 50)
        #expect(throws: TenantGenerator.OptionError.self) { _ = try generate(directory, "a", users: 50) }
        #expect(throws: TenantGenerator.OptionError.self) { _ = try TenantGenerator(.init(users: 5)) }
        #expect(throws: TenantGenerator.OptionError.self) { _ = try TenantGenerator(.init(users: 50, name: "no dots.here")) }
        #expect(throws: TenantGenerator.OptionError.self) { _ = try TenantGenerator(.init(users: 50, customDomains: [])) }
        #expect(throws: TenantGenerator.OptionError.self) {
            _ = try TenantGenerator(.init(users: 50, customDomains: ["x.onmicrosoft.com"]))
        }
    }

    @Test func loadsWithEveryReferenceValid() throws {
        let directory = try TemporaryDirectory("generate")
        let summary = try generate(directory, "tenant")
        let snapshot = try Snapshot.load(from: summary.directory)

        // Sizes.
        #expect(snapshot.users.count == 2000)
        #expect(snapshot.groups.count == 100)
        #expect(snapshot.applications.count == 4)
        #expect(snapshot.servicePrincipals.count == 5)
        #expect(snapshot.domains.count == 3)
        #expect(snapshot.namedLocations.count == 2)
        #expect(snapshot.conditionalAccessPolicies.count == 5)
        #expect(snapshot.organization.first?.id == snapshot.manifest.sourceTenantId)
        #expect(snapshot.manifest.sourceInitialDomain == "contoso.onmicrosoft.com")

        // The kinds of user a real tenant has.
        let guests = snapshot.users.filter(\.isGuest)
        #expect(guests.count > 20 && guests.allSatisfy { $0.userPrincipalName.contains("#EXT#@contoso.onmicrosoft.com") && $0.mail != nil })
        #expect(snapshot.users.filter { !$0.accountEnabled }.count > 20)
        #expect(snapshot.users.filter(\.onPremisesSyncEnabled).count > 100)
        #expect(Set(snapshot.users.map { $0.userPrincipalName.lowercased() }).count == snapshot.users.count)
        // Local parts are unique across domains, so mapping every domain to one target cannot collide.
        let members = snapshot.users.filter { !$0.isGuest }
        #expect(Set(members.map { $0.userPrincipalName.split(separator: "@")[0].lowercased() }).count == members.count)
        #expect(Set(guests.compactMap { $0.mail?.lowercased() }).count == guests.count)

        // Timestamps are ISO 8601 and before the capture.
        let formatter = ISO8601DateFormatter()
        let captured = try #require(snapshot.manifest.capturedDate)
        for user in snapshot.users.prefix(200) {
            let created = try #require(
                user.properties["createdDateTime"]?.stringValue.flatMap(formatter.date(from:)),
                "\(user.properties["createdDateTime"] ?? nil)")
            #expect(created < captured && created > captured.addingTimeInterval(-2600 * 86_400))
        }

        // Managers form a tree: every chain ends at the CEO without a cycle.
        let userIDs = Set(snapshot.users.map(\.id))
        let managerOf = Dictionary(uniqueKeysWithValues: snapshot.users.compactMap { user in user.manager.map { (user.id, $0.id) } })
        #expect(managerOf.count > 1900)
        #expect(managerOf.values.allSatisfy(userIDs.contains))
        for start in managerOf.keys {
            var current = start, steps = 0
            while let next = managerOf[current] {
                current = next
                steps += 1
                #expect(steps < 100, "cycle in the reporting chain of \(start)")
                if steps >= 100 { break }
            }
        }

        // Group members and owners resolve, with the right type; nesting has no cycle.
        let groupIDs = Set(snapshot.groups.map(\.id)), principalIDs = Set(snapshot.servicePrincipals.map(\.id))
        for group in snapshot.groups {
            for reference in group.members + group.owners {
                switch reference.typeName {
                case "user": #expect(userIDs.contains(reference.id))
                case "group": #expect(groupIDs.contains(reference.id))
                case "servicePrincipal": #expect(principalIDs.contains(reference.id))
                default: Issue.record("unexpected reference type \(reference.typeName)")
                }
            }
            #expect(!group.members.map(\.id).contains(group.id))
            #expect(Set(group.members.map(\.id)).count == group.members.count)
        }
        let children = Dictionary(
            uniqueKeysWithValues: snapshot.groups.map { group in
                (group.id, group.members.filter { $0.typeName == "group" }.map(\.id))
            })
        var visiting = Set<String>(), done = Set<String>()
        func acyclic(_ id: String) -> Bool {
            if done.contains(id) { return true }
            if !visiting.insert(id).inserted { return false }
            defer { visiting.remove(id); done.insert(id) }
            return children[id, default: []].allSatisfy(acyclic)
        }
        #expect(snapshot.groups.allSatisfy { acyclic($0.id) })
        #expect(summary.nestedGroups >= 4)

        // Heavy-tailed sizes: one very large group, most small.
        let sizes = snapshot.groups.filter { !$0.isDynamic }.map(\.members.count).sorted()
        #expect(sizes.last! >= 1500)
        #expect(sizes[sizes.count / 2] <= 25)
        #expect(
            snapshot.groups.contains(where: \.isUnified) && snapshot.groups.contains(where: \.isDynamic)
                && snapshot.groups.contains(where: \.isAssignableToRole))
        let unifiedNicknames = snapshot.groups.filter(\.isUnified).map { $0.mailNickname.lowercased() }
        #expect(Set(unifiedNicknames).count == unifiedNicknames.count)
        #expect(
            snapshot.groups.filter(\.isDynamic).allSatisfy {
                $0.properties["membershipRule"]?.stringValue?.contains("user.department") == true
            })
        #expect(
            snapshot.groups.filter(\.isAssignableToRole).allSatisfy {
                !$0.isDynamic && $0.securityEnabled
                    && !$0.members.contains { $0.typeName == "group" }
            })

        // Apps, assignments and grants.
        let principalsByID = Dictionary(uniqueKeysWithValues: snapshot.servicePrincipals.map { ($0.id, $0) })
        let appIDs = Set(snapshot.applications.map(\.appId))
        #expect(snapshot.applications.allSatisfy { app in snapshot.servicePrincipals.contains { $0.appId == app.appId } })
        #expect(!snapshot.appRoleAssignments.isEmpty)
        for assignment in snapshot.appRoleAssignments {
            #expect(
                userIDs.contains(assignment.principalId) || groupIDs.contains(assignment.principalId)
                    || principalIDs.contains(assignment.principalId))
            let resource = try #require(principalsByID[assignment.resourceId])
            let roles = resource.properties["appRoles"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(roles.contains(assignment.appRoleId))
        }
        #expect(snapshot.oauth2PermissionGrants.contains { $0.consentType == "AllPrincipals" })
        for grant in snapshot.oauth2PermissionGrants {
            #expect(principalIDs.contains(grant.clientId) && principalIDs.contains(grant.resourceId))
            if let principal = grant.principalId { #expect(userIDs.contains(principal)) }
        }

        // Roles.
        let roleIDs = Set(snapshot.roleDefinitions.map(\.id))
        let unitIDs = Set(snapshot.administrativeUnits.map(\.id)), applicationObjectIDs = Set(snapshot.applications.map(\.id))
        for assignment in snapshot.roleAssignments {
            #expect(roleIDs.contains(assignment.roleDefinitionId))
            #expect(userIDs.contains(assignment.principalId) || groupIDs.contains(assignment.principalId))
            let scope = assignment.directoryScopeId
            #expect(
                scope == "/" || (scope.hasPrefix("/administrativeUnits/") && unitIDs.contains(String(scope.dropFirst(21))))
                    || applicationObjectIDs.contains(String(scope.dropFirst())))
        }
        #expect(snapshot.roleAssignments.contains { $0.directoryScopeId.hasPrefix("/administrativeUnits/") })

        // Conditional Access references: users, groups, roles, appIds, named locations, or keywords.
        let locationIDs = Set(snapshot.namedLocations.map(\.id))
        let keywords: Set<String> = ["All", "None", "AllTrusted", "GuestsOrExternalUsers"]
        for policy in snapshot.conditionalAccessPolicies {
            let conditions = policy.properties["conditions"]!
            func ids(_ path: String, _ name: String) -> [String] { conditions[path]?[name]?.stringArray ?? [] }
            for id in ids("users", "includeUsers") + ids("users", "excludeUsers") where !keywords.contains(id) {
                #expect(userIDs.contains(id))
            }
            for id in ids("users", "includeGroups") + ids("users", "excludeGroups") { #expect(groupIDs.contains(id)) }
            for id in ids("users", "includeRoles") + ids("users", "excludeRoles") { #expect(roleIDs.contains(id)) }
            for id in ids("applications", "includeApplications") where !keywords.contains(id) { #expect(appIDs.contains(id)) }
            for id in ids("locations", "includeLocations") + ids("locations", "excludeLocations") where !keywords.contains(id) {
                #expect(locationIDs.contains(id))
            }
        }
        #expect(
            snapshot.conditionalAccessPolicies.contains {
                ($0.properties["conditions"]?["applications"]?["includeApplications"]?.stringArray ?? [])
                    .contains(where: appIDs.contains)
            })
    }

    @Test func bodiesUseOnlyGraphProperties() throws {
        let tenant = try TenantGenerator(.init(users: 300, seed: 3)).build()
        let schema = GraphSchema.v1
        let types: [(ObjectType, String)] = [
            (.user, "user"), (.application, "application"), (.servicePrincipal, "servicePrincipal"), (.namedLocation, "namedLocation"),
            (.conditionalAccessPolicy, "conditionalAccessPolicy"), (.roleDefinition, "unifiedRoleDefinition"),
            (.roleAssignment, "unifiedRoleAssignment"), (.appRoleAssignment, "appRoleAssignment"), (.organization, "organization"),
            (.domain, "domain"), (.oauth2PermissionGrant, "oAuth2PermissionGrant"),
        ]
        for (collection, type) in types {
            for object in tenant.collections[collection] ?? [] {
                // `manager` and `members`/`owners` are navigation properties as $expand returns them.
                #expect(schema.unknownProperties(in: object, of: type) == [], "\(type) \(object["displayName"] ?? object["id"] ?? "?")")
            }
        }
        for group in tenant.collections[.group] ?? [] { #expect(schema.unknownProperties(in: group, of: "group") == []) }
    }
}
