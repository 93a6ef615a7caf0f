import Foundation
import LifeboatJSON

/// A request to the fake tenant's operator API that cannot be carried out, with what to do instead.
package struct FakeTenantOperatorError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Breaking and inspecting the fake tenant as an attacker or an operator would: the `/_lifeboat/` API of the
/// served fake and `lifeboat fake-tenant delete | publish-dns | inspect`.
extension FakeTenant {
    /// Collection names the operator API accepts (Graph's collection names), and the object type of each.
    package static let operatorCollections: [String: String] = [
        "users": "user", "groups": "group", "applications": "application", "servicePrincipals": "servicePrincipal",
        "administrativeUnits": "administrativeUnit", "namedLocations": "namedLocation",
        "conditionalAccessPolicies": "conditionalAccessPolicy",
        "roleDefinitions": "unifiedRoleDefinition", "roleAssignments": "unifiedRoleAssignment",
        "oauth2PermissionGrants": "oauth2PermissionGrant",
        "domains": "domain",
    ]

    /// An object the operator API deleted.
    package struct DeletedObject: Sendable, Hashable {
        package var id: String
        package var displayName: String
        /// `true` when the object went to the recycle bin, `false` when it is gone for good.
        package var recoverable: Bool
    }

    /// Deletes every object of `collection` that matches the OData `filter` (all of them without one): soft where Graph
    /// soft-deletes, for good otherwise or with `purge`; `deletedDaysAgo` backdates the deletion (past 30 days it is
    /// as good as purged). Built-in role definitions, the initial domain and Microsoft's own service principals are never deleted.
    package func delete(collection: String, where filter: String?, purge: Bool = false, deletedDaysAgo: Double = 0) throws
        -> [DeletedObject]
    {
        guard let type = Self.operatorCollections[collection] else {
            throw FakeTenantOperatorError(
                "unknown collection \(collection); use one of \(Self.operatorCollections.keys.sorted().joined(separator: ", "))")
        }
        let predicate: ODataFilter?
        do {
            predicate = try filter.map { text throws(GraphFailure) in try ODataFilter(text) }
        } catch {
            throw FakeTenantOperatorError("the filter \(filter ?? "") is not valid OData: \(error.message)")
        }
        var chosen: [DeletedObject] = []
        for id in directory.ids(ofType: type) {
            guard let entry = directory.object(id), predicate?.matches(entry.properties) ?? true, !isProtected(entry.properties, type: type)
            else { continue }
            let name = entry.properties["displayName"]?.stringValue ?? entry.properties["userPrincipalName"]?.stringValue ?? id
            chosen.append(
                DeletedObject(id: id, displayName: name, recoverable: !purge && softDeletes(entry) && deletedDaysAgo < Self.recycleBinDays))
        }
        try delete(ids: chosen.map(\.id), purge: purge, deletedDaysAgo: deletedDaysAgo)
        return chosen
    }

    private func isProtected(_ properties: JSONObject, type: String) -> Bool {
        switch type {
        case "unifiedRoleDefinition": properties["isBuiltIn"]?.boolValue == true
        case "domain": properties["isInitial"]?.boolValue == true
        case "servicePrincipal": properties["appOwnerOrganizationId"]?.stringValue == BuiltInDirectory.microsoftTenant
        default: false
        }
    }

    /// Object counts per collection, live and in the recycle bin, for `inspect`.
    package func census() -> [(collection: String, live: Int, deleted: Int)] {
        Self.operatorCollections.sorted { $0.key < $1.key }.map { collection, type in
            (collection, directory.ids(ofType: type).count, directory.deleted.values.filter { $0.type == type }.count)
        }
    }
}
