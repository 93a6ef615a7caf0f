import LifeboatSnapshot

/// How a CSV column's text becomes a Graph value.
enum ColumnValue: Sendable {
    case string
    case bool
    /// `BlockCredential` (MSOnline) is the opposite of `accountEnabled`.
    case invertedBool
    /// Multi-valued: `;`- or line-separated when a script joined it, lost when `Export-Csv` wrote a type name.
    case strings
    /// Exported as a .NET type name by `Export-Csv` whatever the module: never readable from a CSV.
    case complex
}

/// A Graph property and the column names the PowerShell modules (AzureAD, MSOnline, Microsoft.Graph) give it.
struct ColumnRule: Sendable {
    var property: String
    var columns: [String]
    var value: ColumnValue

    init(_ property: String, _ value: ColumnValue = .string, _ columns: String...) {
        self.property = property
        self.value = value
        // The Graph name itself matches the Microsoft.Graph module's PascalCase column (names compare without case).
        self.columns = [property] + columns
    }
}

/// The columns each CSV file kind maps, by object type. Column names compare case- and punctuation-insensitively.
enum PowerShellColumns {
    static let user: [ColumnRule] = [
        ColumnRule("id", .string, "ObjectId"),
        ColumnRule("userPrincipalName", .string, "UPN"),
        ColumnRule("displayName"),
        ColumnRule("accountEnabled", .bool, "Enabled"),
        ColumnRule("accountEnabled", .invertedBool, "BlockCredential"),
        ColumnRule("givenName", .string, "FirstName"),
        ColumnRule("surname", .string, "LastName"),
        ColumnRule("mail"),
        ColumnRule("mailNickname"),
        ColumnRule("jobTitle", .string, "Title"),
        ColumnRule("department"),
        ColumnRule("companyName"),
        ColumnRule("officeLocation", .string, "PhysicalDeliveryOfficeName", "Office"),
        ColumnRule("mobilePhone", .string, "Mobile"),
        ColumnRule("businessPhones", .strings, "TelephoneNumber", "PhoneNumber"),
        ColumnRule("faxNumber", .string, "FacsimileTelephoneNumber", "Fax"),
        ColumnRule("streetAddress"),
        ColumnRule("city"),
        ColumnRule("state"),
        ColumnRule("postalCode"),
        ColumnRule("country"),
        ColumnRule("usageLocation"),
        ColumnRule("preferredLanguage"),
        ColumnRule("userType"),
        ColumnRule("otherMails", .strings, "AlternateEmailAddresses"),
        ColumnRule("proxyAddresses", .strings),
        ColumnRule("onPremisesSyncEnabled", .bool, "DirSyncEnabled"),
        ColumnRule("onPremisesImmutableId", .string, "ImmutableId"),
        ColumnRule("onPremisesLastSyncDateTime", .string, "LastDirSyncTime"),
        ColumnRule("onPremisesSecurityIdentifier"),
        ColumnRule("onPremisesSamAccountName"),
        ColumnRule("onPremisesDistinguishedName"),
        ColumnRule("onPremisesDomainName"),
        ColumnRule("onPremisesUserPrincipalName"),
        ColumnRule("createdDateTime", .string, "WhenCreated"),
        ColumnRule("employeeId"),
        ColumnRule("employeeType"),
        ColumnRule("employeeHireDate"),
        ColumnRule("ageGroup"),
        ColumnRule("consentProvidedForMinor"),
        ColumnRule("creationType"),
        ColumnRule("externalUserState", .string, "UserState"),
        ColumnRule("externalUserStateChangeDateTime", .string, "UserStateChangedOn"),
        ColumnRule("passwordPolicies"),
        ColumnRule("showInAddressList", .bool),
        ColumnRule("assignedLicenses", .complex, "Licenses"),
        ColumnRule("passwordProfile", .complex),
        ColumnRule("identities", .complex, "SignInNames"),
        ColumnRule("onPremisesExtensionAttributes", .complex, "ExtensionProperty"),
        ColumnRule(
            "authentication", .complex, "StrongAuthenticationMethods", "StrongAuthenticationRequirements", "StrongAuthenticationUserDetails"
        ),
    ]

    static let group: [ColumnRule] = [
        ColumnRule("id", .string, "ObjectId"),
        ColumnRule("displayName"),
        ColumnRule("description"),
        ColumnRule("mailEnabled", .bool),
        ColumnRule("securityEnabled", .bool),
        ColumnRule("mailNickname"),
        ColumnRule("mail", .string, "EmailAddress"),
        ColumnRule("groupTypes", .strings),
        ColumnRule("membershipRule"),
        ColumnRule("membershipRuleProcessingState"),
        ColumnRule("isAssignableToRole", .bool),
        ColumnRule("visibility"),
        ColumnRule("classification"),
        ColumnRule("onPremisesSyncEnabled", .bool, "DirSyncEnabled"),
        ColumnRule("onPremisesSecurityIdentifier"),
        ColumnRule("onPremisesLastSyncDateTime", .string, "LastDirSyncTime"),
        ColumnRule("proxyAddresses", .strings),
        ColumnRule("createdDateTime"),
        ColumnRule("assignedLicenses", .complex, "Licenses"),
    ]

    static let application: [ColumnRule] = [
        ColumnRule("id", .string, "ObjectId"),
        ColumnRule("appId", .string, "ApplicationId"),
        ColumnRule("displayName"),
        ColumnRule("description"),
        ColumnRule("notes"),
        ColumnRule("signInAudience"),
        ColumnRule("identifierUris", .strings),
        ColumnRule("publisherDomain"),
        ColumnRule("tags", .strings),
        ColumnRule("groupMembershipClaims"),
        ColumnRule("isFallbackPublicClient", .bool),
        ColumnRule("createdDateTime"),
        ColumnRule("appRoles", .complex),
        ColumnRule("api", .complex, "Oauth2Permissions"),
        ColumnRule("requiredResourceAccess", .complex),
        ColumnRule("passwordCredentials", .complex),
        ColumnRule("keyCredentials", .complex),
        ColumnRule("optionalClaims", .complex),
        ColumnRule("web", .complex),
        ColumnRule("spa", .complex),
        ColumnRule("publicClient", .complex),
        ColumnRule("info", .complex),
    ]

    static let servicePrincipal: [ColumnRule] = [
        ColumnRule("id", .string, "ObjectId"),
        ColumnRule("appId", .string, "ApplicationId"),
        ColumnRule("displayName"),
        ColumnRule("accountEnabled", .bool),
        ColumnRule("appDisplayName"),
        ColumnRule("appOwnerOrganizationId", .string, "AppOwnerTenantId"),
        ColumnRule("appRoleAssignmentRequired", .bool),
        ColumnRule("servicePrincipalNames", .strings),
        ColumnRule("servicePrincipalType"),
        ColumnRule("tags", .strings),
        ColumnRule("publisherName"),
        ColumnRule("homepage"),
        ColumnRule("loginUrl"),
        ColumnRule("logoutUrl"),
        ColumnRule("replyUrls", .strings),
        ColumnRule("preferredSingleSignOnMode"),
        ColumnRule("notes"),
        ColumnRule("description"),
        ColumnRule("appRoles", .complex),
        ColumnRule("oauth2PermissionScopes", .complex, "Oauth2Permissions"),
        ColumnRule("passwordCredentials", .complex),
        ColumnRule("keyCredentials", .complex),
    ]

    static let domain: [ColumnRule] = [
        ColumnRule("id", .string, "Name"),
        ColumnRule("isDefault", .bool),
        ColumnRule("isInitial", .bool),
        ColumnRule("isVerified", .bool),
        ColumnRule("isRoot", .bool),
        ColumnRule("isAdminManaged", .bool),
        ColumnRule("authenticationType", .string, "Authentication"),
        ColumnRule("supportedServices", .strings),
        ColumnRule("passwordValidityPeriodInDays"),
        ColumnRule("passwordNotificationWindowInDays"),
    ]

    static let organization: [ColumnRule] = [
        ColumnRule("id", .string, "ObjectId", "TenantId"),
        ColumnRule("displayName"),
        ColumnRule("city"),
        ColumnRule("state"),
        ColumnRule("street"),
        ColumnRule("postalCode"),
        ColumnRule("countryLetterCode"),
        ColumnRule("preferredLanguage"),
        ColumnRule("technicalNotificationMails", .strings),
        ColumnRule("onPremisesSyncEnabled", .bool, "DirSyncEnabled", "DirectorySynchronizationEnabled"),
        ColumnRule("verifiedDomains", .complex),
    ]

    /// Columns that describe the export rather than the object (normalised names): never a loss.
    static let informational: Set<String> = ["objecttype", "runspaceid", "pscomputername", "psshowcomputername"]

    /// Columns read for a rule set, so that the others can be reported as not imported.
    static func columnKeys(_ rules: [ColumnRule]) -> Set<String> {
        Set(rules.flatMap { $0.columns.map(CSVTable.key) })
    }
}
