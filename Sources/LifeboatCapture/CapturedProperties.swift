import LifeboatSnapshot

/// What a capture reads of each type: the properties Lifeboat restores (the engine's writable sets),
/// the ones that identify an object or explain it in a report (ids, UPN, mail, creation and sync
/// facts), and nothing else. Every name is a property of the Graph v1.0 type (a test checks the lists
/// against the v1.0 metadata), because Graph refuses a `$select` of an unknown property.
///
/// Relationships are read separately (see ``SnapshotCapture``) and stored inline: `members`, `owners`,
/// `manager`, `federatedIdentityCredentials`.
package enum CapturedProperties {
    /// `$select` for users; `manager` comes through `$expand=manager($select=id)`.
    package static let user: [String] = [
        "id", "userPrincipalName", "displayName", "accountEnabled", "userType", "mail", "mailNickname", "otherMails", "proxyAddresses",
        "givenName", "surname", "jobTitle", "department", "companyName", "officeLocation", "employeeId", "employeeType",
        "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData", "businessPhones", "mobilePhone", "faxNumber",
        "streetAddress", "city", "state", "postalCode", "country", "usageLocation", "preferredLanguage", "preferredDataLocation",
        "ageGroup", "consentProvidedForMinor", "showInAddressList", "passwordPolicies", "identities", "createdDateTime", "creationType",
        "externalUserState", "externalUserStateChangeDateTime", "onPremisesSyncEnabled", "onPremisesImmutableId",
        "onPremisesSamAccountName", "onPremisesDomainName", "onPremisesUserPrincipalName", "onPremisesDistinguishedName",
        "onPremisesSecurityIdentifier", "onPremisesLastSyncDateTime", "onPremisesExtensionAttributes",
    ]

    /// `$select` for groups.
    package static let group: [String] = [
        "id", "displayName", "description", "classification", "createdDateTime", "groupTypes", "isAssignableToRole", "mail",
        "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState", "proxyAddresses", "securityEnabled",
        "visibility", "uniqueName", "theme", "preferredLanguage", "preferredDataLocation", "onPremisesSyncEnabled",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesLastSyncDateTime",
    ]

    /// `$select` for administrative units.
    package static let administrativeUnit: [String] = [
        "id", "displayName", "description", "visibility", "isMemberManagementRestricted", "membershipRule",
        "membershipRuleProcessingState", "membershipType",
    ]

    /// `$select` for applications. `keyCredentials` carries the certificate itself only when one application
    /// is read with `$select=keyCredentials`, so applications with keys are read again one by one.
    package static let application: [String] = [
        "id", "appId", "displayName", "description", "createdDateTime", "signInAudience", "publisherDomain", "uniqueName",
        "identifierUris", "tags", "notes", "isFallbackPublicClient", "isDeviceOnlyAuthSupported", "groupMembershipClaims",
        "appRoles", "api", "requiredResourceAccess", "keyCredentials", "passwordCredentials", "tokenEncryptionKeyId", "web", "spa",
        "publicClient", "info", "optionalClaims", "parentalControlSettings", "addIns", "defaultRedirectUri", "oauth2RequirePostResponse",
        "requestSignatureVerification", "samlMetadataUrl", "serviceManagementReference", "servicePrincipalLockConfiguration",
        "authenticationBehaviors", "nativeAuthenticationApisEnabled",
    ]

    /// `$select` for service principals.
    package static let servicePrincipal: [String] = [
        "id", "appId", "appDisplayName", "displayName", "description", "accountEnabled", "appOwnerOrganizationId",
        "appRoleAssignmentRequired", "appRoles", "oauth2PermissionScopes", "homepage", "loginUrl", "logoutUrl", "replyUrls",
        "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags", "alternativeNames", "notes",
        "notificationEmailAddresses", "preferredSingleSignOnMode", "samlSingleSignOnSettings", "keyCredentials", "passwordCredentials",
    ]

    /// `$select` for directory role assignments: the scope is `directoryScopeId` or `appScopeId`.
    package static let roleAssignment: [String] = ["id", "roleDefinitionId", "principalId", "directoryScopeId", "appScopeId"]

    /// `$select` for app role assignments read from their resource's `appRoleAssignedTo`.
    package static let appRoleAssignment: [String] = [
        "id", "appRoleId", "createdDateTime", "principalDisplayName", "principalId", "principalType", "resourceDisplayName", "resourceId",
    ]

    /// The Graph type (short name, as in the v1.0 metadata) whose properties a `$select` list names.
    package static let selections: [(type: String, properties: [String])] = [
        ("user", user), ("group", group), ("administrativeUnit", administrativeUnit), ("application", application),
        ("servicePrincipal", servicePrincipal), ("unifiedRoleAssignment", roleAssignment), ("appRoleAssignment", appRoleAssignment),
    ]

    /// The Graph type of the objects of a snapshot collection, as `@odata.type` names it.
    static func odataType(of type: ObjectType) -> String {
        switch type {
        case .organization: "#microsoft.graph.organization"
        case .domain: "#microsoft.graph.domain"
        case .user: "#microsoft.graph.user"
        case .group: "#microsoft.graph.group"
        case .administrativeUnit: "#microsoft.graph.administrativeUnit"
        case .application: "#microsoft.graph.application"
        case .servicePrincipal: "#microsoft.graph.servicePrincipal"
        case .appRoleAssignment: "#microsoft.graph.appRoleAssignment"
        case .oauth2PermissionGrant: "#microsoft.graph.oAuth2PermissionGrant"
        case .roleDefinition: "#microsoft.graph.unifiedRoleDefinition"
        case .roleAssignment: "#microsoft.graph.unifiedRoleAssignment"
        case .namedLocation: "#microsoft.graph.namedLocation"
        case .conditionalAccessPolicy: "#microsoft.graph.conditionalAccessPolicy"
        }
    }
}
