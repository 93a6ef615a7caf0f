/// The kinds of directory object a snapshot holds and Lifeboat restores, named as in Graph.
package enum ObjectType: String, CaseIterable, Sendable, Codable, Comparable {
    case organization
    case domain
    case user
    case group
    case administrativeUnit
    case application
    case servicePrincipal
    case appRoleAssignment
    case oauth2PermissionGrant
    case roleDefinition
    case roleAssignment
    case namedLocation
    case conditionalAccessPolicy

    /// The snapshot file holding this collection.
    package var fileName: String {
        switch self {
        case .organization: "organization.json"
        case .domain: "domains.json"
        case .user: "users.json"
        case .group: "groups.json"
        case .administrativeUnit: "administrativeUnits.json"
        case .application: "applications.json"
        case .servicePrincipal: "servicePrincipals.json"
        case .appRoleAssignment: "appRoleAssignments.json"
        case .oauth2PermissionGrant: "oauth2PermissionGrants.json"
        case .roleDefinition: "roleDefinitions.json"
        case .roleAssignment: "roleAssignments.json"
        case .namedLocation: "namedLocations.json"
        case .conditionalAccessPolicy: "conditionalAccessPolicies.json"
        }
    }

    /// Plural, for people: "users", "conditional access policies".
    package var plural: String {
        switch self {
        case .organization: "organization"
        case .domain: "domains"
        case .user: "users"
        case .group: "groups"
        case .administrativeUnit: "administrative units"
        case .application: "applications"
        case .servicePrincipal: "service principals"
        case .appRoleAssignment: "app role assignments"
        case .oauth2PermissionGrant: "OAuth2 permission grants"
        case .roleDefinition: "role definitions"
        case .roleAssignment: "role assignments"
        case .namedLocation: "named locations"
        case .conditionalAccessPolicy: "conditional access policies"
        }
    }

    package static func < (lhs: ObjectType, rhs: ObjectType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
