import Foundation
import LifeboatJSON
import LifeboatSnapshot

extension FakeTenant {
    /// Loads a snapshot into the tenant **with its original ids**, as the "before" tenant of an in-place
    /// rehearsal: delete things from it, then run an in-place restore. Relationships (members, owners,
    /// managers, app role assignments) come along; the snapshot's domains are added as they were.
    /// Objects already present are left as they are.
    @discardableResult
    public func importSnapshot(_ snapshot: Snapshot) throws -> Int {
        let directory = self.directory
        return try directory.transaction {
            var count = 0
            func put(_ id: String, _ type: String, _ properties: JSONObject) throws {
                guard directory.object(id) == nil else { return }
                try directory.put(id, type: type, properties: properties)
                count += 1
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
            for unit in snapshot.administrativeUnits { try put(unit.id, "administrativeUnit", unit.properties.filter { !relationships.contains($0.key) }) }
            for app in snapshot.applications { try put(app.id, "application", app.properties.filter { !relationships.contains($0.key) }) }
            for principal in snapshot.servicePrincipals where directory.lookup("servicePrincipal", "appId", principal.appId) == nil {
                try put(principal.id, "servicePrincipal", principal.properties.filter { !relationships.contains($0.key) })
            }
            for role in snapshot.roleDefinitions where !role.isBuiltIn { try put(role.id, "unifiedRoleDefinition", role.properties) }
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
                for member in group.members where directory.object(member.id) != nil { try directory.addLink(group.id, "members", member.id) }
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
