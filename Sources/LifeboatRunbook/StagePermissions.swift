/// One application permission a stage needs, satisfied by any of its alternatives (the first is the least privileged).
package struct PermissionRequirement: Sendable, Hashable {
    /// Permission names, least privileged first; holding any one of them is enough.
    package var anyOf: [String]
    package init(_ anyOf: String...) { self.anyOf = anyOf }

    /// The least privileged permission that satisfies the requirement: what a runbook's gate asks the operator to grant.
    package var leastPrivileged: String { anyOf[0] }

    /// Whether a token holding `granted` satisfies the requirement. A `….ReadWrite.…` permission includes the
    /// same-named `….Read.…` one (permissions-reference.md describes each ReadWrite permission as read and write).
    package func isSatisfied(by granted: Set<String>) -> Bool {
        anyOf.contains {
            granted.contains($0) || ($0.contains(".Read.") && granted.contains($0.replacingOccurrences(of: ".Read.", with: ".ReadWrite.")))
        }
    }
}

/// The Microsoft Graph application permissions each stage kind needs: ONE table, read by the runbook (the gate's
/// `${runbook.permissions}`), by the target preflight (the token's `roles` claim), by Docs/live-rebuild.md and by the fake's grant list.
///
/// Each row comes from the permissions table of the reference pages of the requests the stage sends
/// (`../shared/graph/docs/api-reference/v1.0/api/`, named next to each row). Where a page lists a read permission
/// for a write (e.g. `Policy.Read.All` for updating security defaults), the write permission is taken.
package enum StagePermissions {
    static let userWrite = PermissionRequirement("User.ReadWrite.All", "Directory.ReadWrite.All")
    static let groupWrite = PermissionRequirement("Group.ReadWrite.All", "Directory.ReadWrite.All")
    static let applicationWrite = PermissionRequirement("Application.ReadWrite.All")
    static let applicationRead = PermissionRequirement(
        "Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
    static let domainWrite = PermissionRequirement("Domain.ReadWrite.All")
    static let domainRead = PermissionRequirement(
        "Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
    static let policyRead = PermissionRequirement("Policy.Read.All")
    static let conditionalAccessWrite = PermissionRequirement("Policy.ReadWrite.ConditionalAccess")
    static let roleManagementWrite = PermissionRequirement("RoleManagement.ReadWrite.Directory")
    static let adminUnitWrite = PermissionRequirement("AdministrativeUnit.ReadWrite.All", "Directory.ReadWrite.All")
    static let directoryRead = PermissionRequirement("Directory.Read.All", "Directory.ReadWrite.All")

    /// Stage kind → the application permissions its requests need.
    package static let table: [String: [PermissionRequirement]] = [
        "manual": [],
        "tenant.create": [],
        "idmap.export": [],
        "domains.add": [domainWrite],  // domain-post-domains.md
        "domains.verify": [domainWrite],  // domain-verify.md, domain-list-verificationdnsrecords.md
        "recycleBin.restore": [userWrite, groupWrite, applicationWrite, adminUnitWrite],  // directory-deleteditems-restore.md
        "users.create": [userWrite],  // user-post-users.md
        "users.rename": [userWrite, domainRead],  // user-update.md, domain-get.md
        "users.manager": [userWrite],  // user-post-manager.md
        "guests.invite": [PermissionRequirement("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")],  // invitation-post.md
        "groups.create": [groupWrite],  // group-post-groups.md, group-upsert.md
        // group-post-members.md
        "groups.members": [PermissionRequirement("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")],
        "groups.owners": [groupWrite],  // group-post-owners.md
        "adminUnits.create": [adminUnitWrite],  // directory-post-administrativeunits.md
        "adminUnits.members": [adminUnitWrite],  // administrativeunit-post-members.md
        "roles.definitions": [roleManagementWrite],  // rbacapplication-post-roledefinitions.md
        "roles.assign": [roleManagementWrite],  // rbacapplication-post-roleassignments.md
        "namedLocations.create": [policyRead, conditionalAccessWrite],  // conditionalaccessroot-post-namedlocations.md
        // authenticationstrengthroot-post-policies.md
        "authenticationStrengths.create": [
            policyRead, PermissionRequirement("Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.AuthenticationMethod"),
        ],
        "conditionalAccess.create": [policyRead, conditionalAccessWrite, applicationRead],  // conditionalaccessroot-post-policies.md
        "conditionalAccess.enable": [policyRead, conditionalAccessWrite, applicationRead],  // conditionalaccesspolicy-update.md
        // identitysecuritydefaultsenforcementpolicy-update.md
        "securityDefaults.disable": [
            policyRead, PermissionRequirement("Policy.ReadWrite.SecurityDefaults", "Policy.ReadWrite.ConditionalAccess"),
        ],
        // temporaryaccesspassauthenticationmethodconfiguration-update.md
        "temporaryAccessPass.enable": [PermissionRequirement("Policy.ReadWrite.AuthenticationMethod")],
        // authentication-post-temporaryaccesspassmethods.md
        "users.accessPasses": [PermissionRequirement("UserAuthenticationMethod.ReadWrite.All")],
        "verify": [directoryRead, policyRead],  // user-list.md, conditionalaccessroot-list-policies.md
        "apps.create": [applicationWrite, domainRead],  // application-post-applications.md, application-upsert.md, domain-get.md
        "apps.link": [applicationWrite],  // application-update.md
        "apps.identifierUris": [applicationWrite, domainRead],  // application-update.md, domain-get.md
        "apps.owners": [applicationWrite],  // application-post-owners.md
        "servicePrincipals.create": [applicationWrite],  // serviceprincipal-post-serviceprincipals.md
        // serviceprincipal-post-approleassignedto.md
        "appRoleAssignments.create": [PermissionRequirement("AppRoleAssignment.ReadWrite.All"), applicationRead],
        // oauth2permissiongrant-post.md
        "oauth2Grants.create": [PermissionRequirement("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All")],
        // user-assignlicense.md, subscribedsku-list.md
        "licenses.assign": [
            userWrite, groupWrite, PermissionRequirement("Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"),
        ],
    ]

    /// The requirements of a stage kind (none for an unknown kind).
    package static func requirements(of kind: String) -> [PermissionRequirement] { table[kind] ?? [] }

    /// A small set of permissions that covers every stage of `kinds`, sorted: what the operator grants the app.
    /// Requirements with one choice are taken first; one already covered by an earlier choice adds nothing, otherwise
    /// its least privileged permission is added.
    package static func leastPrivileged(for kinds: some Sequence<String>) -> [String] {
        let all = Set(kinds.flatMap { requirements(of: $0) }).sorted {
            ($0.anyOf.count, $0.leastPrivileged) < ($1.anyOf.count, $1.leastPrivileged)
        }
        var chosen: Set<String> = []
        for requirement in all where !requirement.isSatisfied(by: chosen) { chosen.insert(requirement.leastPrivileged) }
        return chosen.sorted()
    }

    /// The permissions a run of the given stages needs, each with the stage ids that need it, and which of them
    /// a token holding `granted` lacks.
    package static func missing(for stages: [(id: String, kind: String)], granted: Set<String>) -> [(
        permission: PermissionRequirement, stages: [String]
    )] {
        var result: [PermissionRequirement: [String]] = [:]
        var order: [PermissionRequirement] = []
        for stage in stages {
            for requirement in requirements(of: stage.kind) where !requirement.isSatisfied(by: granted) {
                if result[requirement] == nil { order.append(requirement) }
                result[requirement, default: []].append(stage.id)
            }
        }
        return order.map { ($0, result[$0]!) }
    }
}
