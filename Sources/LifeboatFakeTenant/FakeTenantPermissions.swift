import Foundation
import LifeboatJSON

/// The Graph application permissions (`roles` in a token) each route of the fake tenant requires, from the
/// "Permissions" table of the route's reference page in `../shared/graph/docs/api-reference/v1.0/api/` (file named per rule).
///
/// A rule is a list of alternatives; one alternative is a set of permissions that must all be held ("A and B" on the page).
/// A `….ReadWrite.…` permission also satisfies the `….Read.…` permission of the same name (concepts/permissions-reference.md
/// describes every ReadWrite permission as read and write). Where a page lists a read permission as enough for a write
/// (security defaults, Conditional Access), the fake takes the write permissions (hostile choice, Docs/fake-tenant.md).
package enum FakeTenantPermissions {
    /// The application permissions the fake grants when a profile or `serve` option does not say otherwise:
    /// the list Docs/live-rebuild.md ("Permissions") tells an operator to grant. Keep the two equal.
    package static let defaultGrants: [String] = [
        "User.ReadWrite.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "RoleManagement.ReadWrite.Directory",
        "Policy.ReadWrite.ConditionalAccess", "Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Domain.ReadWrite.All",
        "AdministrativeUnit.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All", "LicenseAssignment.ReadWrite.All",
        "Directory.Read.All",
    ]

    /// The roles of a served client: `granted` (when not empty) replaces `defaults`, then `withheld` is taken out
    /// (`fake-tenant serve --grant P --withhold P`).
    package static func roles(defaults: Set<String>, granted: [String], withheld: [String]) -> [String] {
        (granted.isEmpty ? defaults.sorted() : granted).filter { !withheld.contains($0) }
    }

    /// The permissions a route needs: any one alternative, all of its permissions.
    package struct Rule: Sendable, Hashable {
        /// The reference page the rule comes from (file name).
        package var page: String
        package var anyOf: [[String]]

        init(_ page: String, _ anyOf: [[String]]) {
            self.page = page
            self.anyOf = anyOf
        }

        init(_ page: String, any permissions: [String]) {
            self.init(page, permissions.map { [$0] })
        }

        /// Whether `granted` satisfies the rule.
        package func isSatisfied(by granted: Set<String>) -> Bool {
            anyOf.contains { all in all.allSatisfy { FakeTenantPermissions.holds($0, in: granted) } }
        }
    }

    /// Whether `permission` is granted, directly or through its ReadWrite form.
    static func holds(_ permission: String, in granted: Set<String>) -> Bool {
        if granted.contains(permission) { return true }
        if permission.contains(".Read."), granted.contains(permission.replacingOccurrences(of: ".Read.", with: ".ReadWrite.")) {
            return true
        }
        return false
    }

    static let userRead = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"]
    static let userWrite = ["User.ReadWrite.All", "Directory.ReadWrite.All"]
    static let groupRead = [
        "GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
    ]
    static let groupWrite = ["Group.ReadWrite.All", "Directory.ReadWrite.All"]
    static let appRead = ["Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"]
    static let appWrite = ["Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"]
    static let roleRead = [
        "RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory",
        "Directory.ReadWrite.All",
    ]
    static let unitRead = [
        "AdministrativeUnit.Read.All", "AdministrativeUnit.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
    ]
    static let caWrite = [["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Application.Read.All"]]

    /// The rule for a request, or `nil` for requests the fake does not route (they fail on their own).
    /// `segments` are the path below `/v1.0` with key segments (`groups(uniqueName='x')`) split to (`groups`, key);
    /// `typeOf` tells the type of an object (deleted items, member references).
    static func rule(method: String, segments raw: [String], memberType: String?, deletedType: String?) -> Rule? {
        var segments: [String] = []
        for segment in raw {
            if let open = segment.firstIndex(of: "("), segment.hasSuffix(")") {
                segments.append(String(segment[..<open]))
                segments.append("{key}")
            } else {
                segments.append(segment)
            }
        }
        let read = method == "GET"
        let path = segments.enumerated().map { index, segment in
            // Ids are wildcards; fixed names stay.
            index == 0 || Self.fixedSegments.contains(segment.lowercased()) ? segment : "*"
        }
        switch path.first ?? "" {
        case "users":
            switch (method, Array(path.dropFirst())) {
            case ("GET", _) where path.count <= 3 && !path.contains("authentication"):
                return Rule(
                    path.last == "delta"
                        ? "api-reference/v1.0/api/user-delta.md"
                        : path.count == 1 ? "api-reference/v1.0/api/user-list.md" : "api-reference/v1.0/api/user-get.md", any: userRead)
            case ("POST", []): return Rule("api-reference/v1.0/api/user-post-users.md", any: userWrite)
            case ("PATCH", ["*"]):
                return Rule(
                    "api-reference/v1.0/api/user-update.md",
                    any: ["User.ReadWrite.All", "User.ManageIdentities.All", "Directory.ReadWrite.All"])
            case ("DELETE", ["*"]): return Rule("concepts/permissions-reference.md", any: userWrite)
            case (_, ["*", "manager", "$ref"]), ("DELETE", ["*", "manager"]):
                return Rule("api-reference/v1.0/api/user-post-manager.md", any: userWrite)
            case ("POST", ["*", "assignLicense"]): return Rule("api-reference/v1.0/api/user-assignlicense.md", any: userWrite)
            case (_, let rest) where rest.count >= 2 && rest[1] == "authentication":
                return read
                    ? Rule(
                        "api-reference/v1.0/includes/permissions/authentication-post-temporaryaccesspassmethods-permissions.md",
                        any: [
                            "UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.Read.All",
                            "UserAuthenticationMethod.ReadWrite.All",
                        ])
                    : Rule(
                        "api-reference/v1.0/api/authentication-post-temporaryaccesspassmethods.md",
                        any: ["UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"])
            default: return nil
            }
        case "groups":
            switch (method, Array(path.dropFirst())) {
            case ("GET", let rest) where rest.count == 2 && (rest[1] == "members" || rest[1] == "owners"):
                return Rule("api-reference/v1.0/api/group-list-members.md", any: groupRead + ["GroupMember.ReadWrite.All"])
            case ("GET", _): return Rule("api-reference/v1.0/api/group-delta.md", any: groupRead)
            case ("POST", []):
                return Rule(
                    "api-reference/v1.0/api/group-post-groups.md", any: ["Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"])
            case ("PATCH", ["{key}"]):
                return Rule(
                    "api-reference/v1.0/api/group-upsert.md", any: ["Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"])
            case ("PATCH", ["*"]): return Rule("api-reference/v1.0/api/group-update.md", any: groupWrite)
            case ("DELETE", ["*"]), ("DELETE", ["{key}"]): return Rule("concepts/permissions-reference.md", any: groupWrite)
            case (_, ["*", "members", "$ref"]), (_, ["*", "members", "*", "$ref"]):
                // Per member type: GroupMember.ReadWrite.All and the member's own write permission (api-reference/v1.0/api/group-post-members.md).
                let own: String =
                    switch memberType {
                    case "group": "Group.ReadWrite.All"
                    case "servicePrincipal": "Application.ReadWrite.All"
                    case "device": "Device.ReadWrite.All"
                    case "orgContact": "OrgContact.Read.All"
                    default: "User.ReadWrite.All"
                    }
                return Rule(
                    "api-reference/v1.0/api/group-post-members.md", [["GroupMember.ReadWrite.All", own], ["Directory.ReadWrite.All"]])
            case (_, ["*", "owners", "$ref"]), (_, ["*", "owners", "*", "$ref"]):
                return Rule("api-reference/v1.0/api/group-post-owners.md", any: groupWrite)
            case ("POST", ["*", "assignLicense"]):
                return Rule(
                    "api-reference/v1.0/api/group-assignlicense.md",
                    any: ["LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"])
            default: return nil
            }
        case "applications":
            switch (method, Array(path.dropFirst())) {
            case ("GET", _): return Rule("api-reference/v1.0/api/directory-deleteditems-get.md", any: appRead)
            case ("POST", []):
                return Rule(
                    "api-reference/v1.0/includes/permissions/application-post-applications-permissions.md",
                    any: ["AppRegistration.Create"] + appWrite)
            case ("PATCH", ["{key}"]):
                return Rule("api-reference/v1.0/api/application-upsert.md", any: ["AppRegistration.Create"] + appWrite)
            case ("PATCH", ["*"]), ("DELETE", _): return Rule("api-reference/v1.0/api/application-update.md", any: appWrite)
            case ("POST", ["*", "addPassword"]): return Rule("api-reference/v1.0/api/application-addpassword.md", any: appWrite)
            case (_, ["*", "federatedIdentityCredentials"]), (_, ["*", "federatedIdentityCredentials", "*"]):
                return Rule("api-reference/v1.0/api/application-post-federatedidentitycredentials.md", any: appWrite)
            case (_, ["*", "owners", "$ref"]), (_, ["*", "owners", "*", "$ref"]):
                return Rule(
                    "api-reference/v1.0/includes/permissions/application-post-owners-permissions.md",
                    [
                        ["Application.ReadWrite.OwnedBy", "Directory.Read.All"], ["Directory.Read.All", "Application.ReadWrite.All"],
                        ["Directory.ReadWrite.All"],
                    ])
            default: return nil
            }
        case "servicePrincipals":
            switch (method, Array(path.dropFirst())) {
            case ("GET", _): return Rule("api-reference/v1.0/api/directory-deleteditems-get.md", any: appRead)
            case ("POST", []): return Rule("api-reference/v1.0/api/serviceprincipal-post-serviceprincipals.md", any: appWrite)
            case (_, let rest) where rest.count >= 2 && rest[1] == "appRoleAssignedTo":
                return Rule(
                    "api-reference/v1.0/api/serviceprincipal-post-approleassignedto.md",
                    [
                        ["AppRoleAssignment.ReadWrite.All", "Application.Read.All"],
                        ["AppRoleAssignment.ReadWrite.All", "Directory.Read.All"],
                    ])
            case ("PATCH", _), ("DELETE", _):
                return Rule(
                    "api-reference/v1.0/includes/permissions/serviceprincipal-update-permissions.md",
                    any: appWrite + ["Directory.ReadWrite.All"])
            default: return nil
            }
        case "oauth2PermissionGrants":
            return read
                ? Rule(
                    "api-reference/v1.0/api/oauth2permissiongrant-list.md",
                    any: ["Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"])
                : Rule(
                    "api-reference/v1.0/api/oauth2permissiongrant-post.md",
                    any: ["DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"])
        case "roleManagement":
            let definitions = path.count > 2 && path[2] == "roleDefinitions"
            if read { return Rule("api-reference/v1.0/api/rbacapplication-list-roleassignments.md", any: roleRead) }
            return Rule(
                definitions
                    ? "api-reference/v1.0/api/rbacapplication-post-roledefinitions.md"
                    : "api-reference/v1.0/api/rbacapplication-post-roleassignments.md",
                any: ["RoleManagement.ReadWrite.Directory"])
        case "identity":
            let locations = path.count > 2 && path[2] == "namedLocations"
            if read { return Rule("api-reference/v1.0/api/conditionalaccessroot-list-policies.md", any: ["Policy.Read.All"]) }
            return locations
                ? Rule(
                    "api-reference/v1.0/api/conditionalaccessroot-post-namedlocations.md",
                    [["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]])
                : Rule(
                    method == "POST"
                        ? "api-reference/v1.0/api/conditionalaccessroot-post-policies.md"
                        : "api-reference/v1.0/api/conditionalaccesspolicy-update.md", caWrite)
        case "directory":
            if path.count > 1, path[1] == "administrativeUnits" {
                if read { return Rule("api-reference/v1.0/api/directory-deleteditems-list.md", any: unitRead) }
                if path.count > 3, path[3] == "members" {
                    return Rule("api-reference/v1.0/api/administrativeunit-post-members.md", any: ["AdministrativeUnit.ReadWrite.All"])
                }
                return Rule("api-reference/v1.0/api/directory-post-administrativeunits.md", any: ["AdministrativeUnit.ReadWrite.All"])
            }
            guard path.count > 1, path[1] == "deletedItems" else { return nil }
            // Per type of the deleted object (api-reference/v1.0/api/directory-deleteditems-list.md, -get.md, -restore.md).
            let type = deletedType ?? (path.count > 2 ? String(raw[2].split(separator: ".").last ?? "") : nil)
            switch (type, read) {
            case ("user", true): return Rule("api-reference/v1.0/api/directory-deleteditems-get.md", any: userRead)
            case ("user", false): return Rule("api-reference/v1.0/api/directory-deleteditems-restore.md", any: ["User.ReadWrite.All"])
            case ("group", true): return Rule("api-reference/v1.0/api/directory-deleteditems-get.md", any: groupRead)
            case ("group", false): return Rule("api-reference/v1.0/api/directory-deleteditems-restore.md", any: ["Group.ReadWrite.All"])
            case ("administrativeUnit", true): return Rule("api-reference/v1.0/api/directory-deleteditems-list.md", any: unitRead)
            case ("administrativeUnit", false):
                return Rule("api-reference/v1.0/api/directory-deleteditems-restore.md", any: ["AdministrativeUnit.ReadWrite.All"])
            case (_, true): return Rule("api-reference/v1.0/api/directory-deleteditems-get.md", any: appRead)
            case (_, false): return Rule("api-reference/v1.0/api/directory-deleteditems-restore.md", any: appWrite)
            }
        case "domains":
            if read {
                return Rule(
                    path.last == "verificationDnsRecords"
                        ? "api-reference/v1.0/api/domain-list-verificationdnsrecords.md"
                        : "api-reference/v1.0/includes/permissions/domain-get-permissions.md",
                    any: ["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All"])
            }
            return Rule(
                path.last == "verify" ? "api-reference/v1.0/api/domain-verify.md" : "api-reference/v1.0/api/domain-post-domains.md",
                any: ["Domain.ReadWrite.All"])
        case "organization":
            return Rule(
                "api-reference/v1.0/api/organization-get.md",
                any: ["Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"])
        case "subscribedSkus":
            return Rule(
                "api-reference/v1.0/includes/permissions/subscribedsku-list-permissions.md",
                any: ["Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "Organization.ReadWrite.All"])
        case "invitations":
            return Rule(
                "api-reference/v1.0/includes/permissions/invitation-post-permissions.md",
                any: ["User.Invite.All", "Directory.ReadWrite.All", "User.ReadWrite.All"])
        case "identityGovernance":
            return Rule(
                "api-reference/v1.0/api/termsofusecontainer-list-agreements.md", any: ["Agreement.Read.All", "Agreement.ReadWrite.All"])
        case "directoryObjects":
            return Rule("api-reference/v1.0/includes/permissions/directoryobject-get-permissions.md", any: ["Directory.Read.All"])
        case "policies":
            let rest = path.dropFirst().map { $0.lowercased() }
            if rest.first == "authenticationstrengthpolicies" {
                return read
                    ? Rule(
                        "api-reference/v1.0/api/authenticationstrengthroot-list-policies.md",
                        any: [
                            "Policy.Read.All", "Policy.ReadWrite.ConditionalAccess",
                            "Policy.ReadWrite.AuthenticationMethod",
                        ])
                    : Rule(
                        "api-reference/v1.0/api/authenticationstrengthroot-post-policies.md",
                        any: ["Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"])
            }
            if rest.first == "identitysecuritydefaultsenforcementpolicy" {
                return read
                    ? Rule("api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-get.md", any: ["Policy.Read.All"])
                    : Rule(
                        "api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-update.md",
                        [["Policy.ReadWrite.SecurityDefaults"], ["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]])
            }
            if rest.count == 1 {
                return Rule("api-reference/v1.0/api/authenticationmethodspolicy-get.md", any: ["Policy.ReadWrite.AuthenticationMethod"])
            }
            return read
                ? Rule(
                    "api-reference/v1.0/api/temporaryaccesspassauthenticationmethodconfiguration-get.md",
                    any: ["Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"])
                : Rule(
                    "api-reference/v1.0/api/temporaryaccesspassauthenticationmethodconfiguration-update.md",
                    any: ["Policy.ReadWrite.AuthenticationMethod"])
        default:
            return nil
        }
    }

    /// Path segments that are names, not ids.
    static let fixedSegments: Set<String> = [
        "members", "owners", "$ref", "manager", "delta", "assignlicense", "authentication", "temporaryaccesspassmethods",
        "addpassword", "federatedidentitycredentials", "approleassignedto", "approleassignments", "verify", "verificationdnsrecords",
        "directory", "roledefinitions", "roleassignments", "conditionalaccess", "namedlocations", "policies", "administrativeunits",
        "deleteditems", "restore", "identitysecuritydefaultsenforcementpolicy", "authenticationmethodspolicy",
        "authenticationmethodconfigurations", "temporaryaccesspass", "$count", "{key}", "authenticationstrengthpolicies",
    ]
}
