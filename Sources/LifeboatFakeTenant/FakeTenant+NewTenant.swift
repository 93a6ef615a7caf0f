import Foundation
import LifeboatGraph
import LifeboatJSON

/// A new tenant's starting state as Microsoft creates it (profile section `newTenant`): security defaults on, no
/// Entra ID P1/P2, the Temporary Access Pass method disabled, and custom domains that another tenant still holds.
/// Without the section the tenant starts permissive (the fake's behaviour before issue 12).
extension FakeTenant {
    /// The id Graph gives the security defaults policy (api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-get.md, example response).
    static let securityDefaultsPolicyID = "00000000-0000-0000-0000-000000000005"

    /// SKUs and service plans that carry Conditional Access (Entra ID P1 and P2), by part number.
    static let premiumPlans: [String: (skuId: String, planId: String)] = [
        "AAD_PREMIUM": ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
        "AAD_PREMIUM_P2": ("84a661c4-e949-4bd2-a560-ed7766fcaf2b", "eec0eb4f-6444-4f95-aba0-50c24d67f998"),
    ]

    // MARK: Security defaults

    /// Whether security defaults are enabled now: the last PATCH, else the profile's starting state.
    package var securityDefaultsEnabled: Bool {
        if let stored = directory.setting("securityDefaults") { return stored == "enabled" }
        return profile.newTenant?.securityDefaults ?? false
    }

    /// Turns security defaults on or off, as an administrator in the portal would.
    package func setSecurityDefaults(enabled: Bool) throws {
        try directory.transaction { try directory.setSetting("securityDefaults", enabled ? "enabled" : "disabled") }
    }

    /// `GET|PATCH /policies/identitySecurityDefaultsEnforcementPolicy`
    /// (api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-get.md, api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-update.md).
    func securityDefaultsPolicy(_ request: FakeRequest) throws -> HTTPResponse {
        switch request.method {
        case "GET":
            let policy: JSONObject = [
                "@odata.type": "#microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
                "id": .string(Self.securityDefaultsPolicyID), "displayName": "Security Defaults",
                "description": "Baseline identity protections Microsoft turns on in every new tenant (fake tenant).",
                "isEnabled": .bool(securityDefaultsEnabled),
            ]
            return try json(200, select(policy, request))
        case "PATCH":
            let body = request.body ?? [:]
            try GraphSchema.v1.validate(body, as: "identitySecurityDefaultsEnforcementPolicy")
            // The update page documents isEnabled as the property to change; the others are the policy's own (hostile choice).
            for key in body.keys where key != "isEnabled" && !key.hasPrefix("@") {
                throw GraphFailure.badRequest("Property '\(key)' is read-only and cannot be set.", code: "BadRequest")
            }
            guard let enabled = body["isEnabled"]?.boolValue else {
                throw GraphFailure.badRequest("Property 'isEnabled' must be true or false.", code: "BadRequest")
            }
            try setSecurityDefaults(enabled: enabled)
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on \(request.path).")
        }
    }

    // MARK: Conditional Access licence

    /// Whether the tenant has bought Entra ID P1 or P2: a subscribed SKU with an AAD_PREMIUM or AAD_PREMIUM_P2 service plan.
    package var conditionalAccessLicensed: Bool {
        subscribedSkus().contains { sku in
            (sku["servicePlans"]?.arrayValue ?? []).contains { Self.premiumPlans[$0["servicePlanName"]?.stringValue ?? ""] != nil }
        }
    }

    /// The checks a new tenant makes before a Conditional Access policy is written (api-reference/v1.0/api/conditionalaccessroot-post-policies.md,
    /// api-reference/v1.0/api/conditionalaccesspolicy-update.md): a P1/P2 licence for any write, and security defaults off for a create.
    func checkConditionalAccessAllowed(creating: Bool) throws(GraphFailure) {
        guard conditionalAccessLicensed else {
            throw GraphFailure(
                status: 403, code: "Authorization_RequestDenied",
                message: "Conditional Access requires a Microsoft Entra ID P1 or P2 licence, and the tenant has none.")
        }
        if creating, securityDefaultsEnabled {
            throw GraphFailure(
                status: 400, code: "BadRequest",
                message:
                    "Security Defaults is enabled in the tenant. Disable Security Defaults before creating Conditional Access policies.")
        }
    }

    // MARK: Temporary Access Pass method configuration

    /// The Temporary Access Pass configuration of the authentication-methods policy
    /// (api-reference/v1.0/resources/temporaryaccesspassauthenticationmethodconfiguration.md): the last PATCH, else the profile's starting state.
    func accessPassConfiguration() -> JSONObject {
        if let text = directory.setting("tapConfiguration"), let stored = try? JSONCoding.decode(Data(text.utf8)).objectValue {
            return stored
        }
        let enabled = profile.newTenant?.temporaryAccessPassEnabled ?? true
        return [
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "id": "TemporaryAccessPass",
            "state": enabled ? "enabled" : "disabled", "defaultLifetimeInMinutes": 60, "defaultLength": 8,
            "minimumLifetimeInMinutes": .number(profile.newTenant == nil ? 10 : 60),
            "maximumLifetimeInMinutes": .number(profile.newTenant == nil ? 43_200 : 480), "isUsableOnce": false,
            "includeTargets": [["targetType": "group", "id": "all_users", "isRegistrationRequired": false]], "excludeTargets": [],
        ]
    }

    /// `GET|PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`
    /// (api-reference/v1.0/api/temporaryaccesspassauthenticationmethodconfiguration-get.md, -update.md; the id segment in either case).
    func accessPassConfiguration(_ request: FakeRequest) throws -> HTTPResponse {
        switch request.method {
        case "GET":
            return try json(200, select(accessPassConfiguration(), request))
        case "PATCH":
            let body = request.body ?? [:]
            try GraphSchema.v1.validate(body, as: "temporaryAccessPassAuthenticationMethodConfiguration")
            try GraphSchema.v1.validateEnums(body, as: "temporaryAccessPassAuthenticationMethodConfiguration")
            if let id = body["id"], id != "TemporaryAccessPass" {
                throw GraphFailure.badRequest("Property 'id' is read-only and cannot be set.")
            }
            var configuration = accessPassConfiguration()
            for (key, value) in body where !key.hasPrefix("@") { configuration[key] = value }
            let minimum = configuration["minimumLifetimeInMinutes"]?.numberValue ?? 60,
                maximum = configuration["maximumLifetimeInMinutes"]?.numberValue ?? 480
            let fallback = configuration["defaultLifetimeInMinutes"]?.numberValue ?? 60
            guard 10 <= minimum, minimum <= maximum, maximum <= 43_200, (minimum...maximum).contains(fallback) else {
                throw GraphFailure.badRequest(
                    "Lifetimes must satisfy 10 <= minimum <= default <= maximum <= 43200 minutes.", code: "BadRequest")
            }
            let data = try JSONCoding.encode(JSONValue.object(configuration))
            try directory.transaction { try directory.setSetting("tapConfiguration", String(decoding: data, as: UTF8.self)) }
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on \(request.path).")
        }
    }

    /// `GET /policies/authenticationMethodsPolicy` (api-reference/v1.0/api/authenticationmethodspolicy-get.md), with the TAP configuration.
    func authenticationMethodsPolicy(_ request: FakeRequest) throws -> HTTPResponse {
        guard request.method == "GET" else {
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on \(request.path).")
        }
        return try json(
            200,
            select(
                [
                    "id": "authenticationMethodsPolicy", "displayName": "Authentication Methods Policy",
                    "description": "The tenant-wide policy that controls which authentication methods users may use.",
                    "policyVersion": "1.5", "policyMigrationState": "migrationComplete",
                    "authenticationMethodConfigurations": [.object(accessPassConfiguration())],
                ], request))
    }

    /// Whether the TAP policy lets `userID` have a pass: the method is enabled and the user is a target (`all_users`,
    /// the user, or a group the user is a member of) and not excluded.
    func checkAccessPassAllowed(for userID: String) throws(GraphFailure) {
        let configuration = accessPassConfiguration()
        guard configuration["state"]?.stringValue == "enabled" else {
            throw GraphFailure.badRequest(
                "The Temporary Access Pass authentication method is disabled in the tenant's authentication methods policy.",
                code: "BadRequest")
        }
        func targets(_ key: String) -> Bool {
            (configuration[key]?.arrayValue ?? []).contains { target in
                guard let id = target["id"]?.stringValue else { return false }
                return id == "all_users" || id == userID || directory.hasLink(id, "members", userID)
            }
        }
        guard targets("includeTargets"), !targets("excludeTargets") else {
            throw GraphFailure.badRequest(
                "The user is not targeted by the Temporary Access Pass authentication method policy.", code: "BadRequest")
        }
    }

    // MARK: Held domains

    /// Marks a custom domain as verified in another tenant (`held`), or releases it: a held domain never verifies here.
    package func holdDomain(_ name: String, held: Bool = true) throws {
        try directory.transaction { try directory.setSetting("held:\(name.lowercased())", held ? "held" : "released") }
    }

    /// Whether another tenant holds the domain: set through ``holdDomain(_:held:)``, else the profile's `heldDomains`.
    func isHeld(_ name: String) -> Bool {
        let domain = name.lowercased()
        if let stored = directory.setting("held:\(domain)") { return stored == "held" }
        return profile.newTenant?.heldDomains.contains { $0.lowercased() == domain } ?? false
    }
}

/// Properties Graph computes or keeps read-only, refused on create and update (the resource pages mark them "Read-only").
enum ReadOnlyProperties {
    static let byType: [String: (page: String, names: Set<String>)] = [
        "user": (
            "api-reference/v1.0/resources/user.md",
            [
                "id", "assignedPlans", "createdDateTime", "creationType", "imAddresses", "legalAgeGroupClassification",
                "licenseAssignmentStates",
                "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesSamAccountName",
                "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "onPremisesUserPrincipalName", "provisionedPlans",
                "proxyAddresses",
                "refreshTokensValidFromDateTime", "signInSessionsValidFromDateTime", "deletedDateTime",
            ]
        ),
        "group": (
            "api-reference/v1.0/resources/group.md",
            [
                "id", "assignedLabels", "assignedLicenses", "createdDateTime", "expirationDateTime", "licenseProcessingState", "mail",
                "onPremisesLastSyncDateTime", "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
                "proxyAddresses",
                "renewedDateTime", "deletedDateTime",
            ]
        ),
        "application": (
            "api-reference/v1.0/resources/application.md", ["id", "appId", "createdDateTime", "deletedDateTime", "publisherDomain"]
        ),
        "servicePrincipal": (
            "api-reference/v1.0/resources/serviceprincipal.md", ["id", "applicationTemplateId", "deletedDateTime", "signInAudience"]
        ),
        "administrativeUnit": ("api-reference/v1.0/resources/administrativeunit.md", ["id", "deletedDateTime"]),
        "conditionalAccessPolicy": (
            "api-reference/v1.0/resources/conditionalaccesspolicy.md", ["id", "createdDateTime", "modifiedDateTime"]
        ),
        "namedLocation": ("api-reference/v1.0/resources/namedlocation.md", ["id", "createdDateTime", "modifiedDateTime"]),
        "oauth2PermissionGrant": ("api-reference/v1.0/resources/oauth2permissiongrant.md", ["id"]),
        "unifiedRoleDefinition": ("api-reference/v1.0/resources/unifiedroledefinition.md", ["id", "isBuiltIn"]),
        "unifiedRoleAssignment": ("api-reference/v1.0/resources/unifiedroleassignment.md", ["id"]),
        "federatedIdentityCredential": ("api-reference/v1.0/resources/federatedidentitycredential.md", ["id"]),
        "authenticationStrengthPolicy": (
            "api-reference/v1.0/resources/authenticationstrengthpolicy.md",
            ["id", "createdDateTime", "modifiedDateTime", "policyType", "requirementsSatisfied"]
        ),
    ]

    /// The first read-only property of `body` for `type`, if any.
    static func first(in body: JSONObject, type: String) -> String? {
        guard let names = byType[type]?.names else { return nil }
        return body.keys.sorted().first { names.contains($0) }
    }
}

/// The properties Graph returns without `$select` (api-reference/v1.0/resources/user.md, api-reference/v1.0/resources/group.md: "Returned by default"); other types return all.
enum DefaultPropertySet {
    static let byType: [String: Set<String>] = [
        "user": [
            "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage",
            "surname", "userPrincipalName",
        ],
        "group": [
            "classification", "createdDateTime", "description", "displayName", "expirationDateTime", "groupTypes", "id",
            "isAssignableToRole",
            "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesLastSyncDateTime",
            "onPremisesProvisioningErrors", "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
            "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime", "securityEnabled", "securityIdentifier",
            "theme", "visibility",
        ],
    ]
}
