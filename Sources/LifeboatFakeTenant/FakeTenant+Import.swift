import Foundation
import LifeboatJSON
import LifeboatSnapshot

extension FakeTenant {
    /// Loads a snapshot into the tenant **with its original ids**, as the "before" tenant of an in-place
    /// rehearsal: delete things from it, then run an in-place restore. Relationships (members, owners,
    /// managers, app role assignments) come along; the snapshot's domains are added as they were.
    /// Objects already present are left as they are, except what every tenant has from the start: the
    /// organization and initial domain (when the snapshot is of this tenant), the built-in role
    /// definitions and Microsoft's first-party service principals take the snapshot's properties and ids,
    /// so that the tenant reads back as the snapshot's source tenant did.
    @discardableResult
    package func importSnapshot(_ snapshot: Snapshot) throws -> Int {
        let directory = self.directory
        return try directory.transaction {
            var count = 0
            func put(_ id: String, _ type: String, _ properties: JSONObject) throws {
                guard directory.object(id) == nil else { return }
                try directory.put(id, type: type, properties: properties)
                count += 1
            }
            /// Replaces the properties of an object the tenant was created with.
            func replace(_ id: String, _ type: String, _ properties: JSONObject) throws {
                guard let existing = directory.object(id), existing.type == type, existing.properties != properties else { return }
                try directory.put(id, type: type, properties: properties)
                count += 1
            }
            for organization in snapshot.organization where organization.id == tenantID {
                try replace(organization.id, "organization", organization.properties)
            }
            if let initial = snapshot.domains.first(where: \.isInitial), initial.id == initialDomain {
                try replace(initial.id, "domain", initial.properties)
            }
            for domain in snapshot.domains where directory.object(domain.id) == nil && !domain.isInitial {
                try put(domain.id, "domain", domain.properties)
            }
            // The source's initial domain becomes an ordinary verified domain of this tenant.
            if let initial = snapshot.domains.first(where: \.isInitial), directory.object(initial.id) == nil {
                var properties = initial.properties
                properties["isInitial"] = false
                properties["isDefault"] = false
                try put(initial.id, "domain", properties)
            }
            let relationships: Set<String> = ["members", "owners", "manager"]
            for user in snapshot.users { try put(user.id, "user", user.properties.filter { !relationships.contains($0.key) }) }
            for group in snapshot.groups { try put(group.id, "group", group.properties.filter { !relationships.contains($0.key) }) }
            for unit in snapshot.administrativeUnits {
                try put(unit.id, "administrativeUnit", unit.properties.filter { !relationships.contains($0.key) })
            }
            for app in snapshot.applications { try put(app.id, "application", app.properties.filter { !relationships.contains($0.key) }) }
            for principal in snapshot.servicePrincipals {
                // A first-party service principal the tenant was seeded with gives way to the snapshot's (same appId, its id).
                if let seeded = directory.lookup("servicePrincipal", "appId", principal.appId), seeded != principal.id,
                    BuiltInDirectory.isSeeded(seeded), directory.links[seeded] == nil
                {
                    try directory.remove(seeded)
                }
                guard directory.lookup("servicePrincipal", "appId", principal.appId) == nil else { continue }
                try put(principal.id, "servicePrincipal", principal.properties.filter { !relationships.contains($0.key) })
            }
            for role in snapshot.roleDefinitions {
                if role.isBuiltIn, directory.object(role.id)?.type == "unifiedRoleDefinition" {
                    try replace(role.id, "unifiedRoleDefinition", role.properties)
                } else {
                    try put(role.id, "unifiedRoleDefinition", role.properties)
                }
            }
            for assignment in snapshot.roleAssignments { try put(assignment.id, "unifiedRoleAssignment", assignment.properties) }
            for location in snapshot.namedLocations { try put(location.id, "namedLocation", location.properties) }
            for policy in snapshot.conditionalAccessPolicies { try put(policy.id, "conditionalAccessPolicy", policy.properties) }
            for grant in snapshot.oauth2PermissionGrants { try put(grant.id, "oauth2PermissionGrant", grant.properties) }
            for assignment in snapshot.appRoleAssignments {
                try put(assignment.id, "appRoleAssignment", assignment.properties)
                try directory.addLink(assignment.resourceId, "appRoleAssignedTo", assignment.id)
                try directory.addLink(assignment.principalId, "appRoleAssignments", assignment.id)
            }
            for group in snapshot.groups {
                for member in group.members where directory.object(member.id) != nil {
                    try directory.addLink(group.id, "members", member.id)
                }
                for owner in group.owners where directory.object(owner.id) != nil { try directory.addLink(group.id, "owners", owner.id) }
            }
            for unit in snapshot.administrativeUnits {
                for member in unit.members where directory.object(member.id) != nil { try directory.addLink(unit.id, "members", member.id) }
            }
            for user in snapshot.users {
                if let manager = user.manager, directory.object(manager.id) != nil { try directory.addLink(user.id, "manager", manager.id) }
            }
            return count
        }
    }
}
