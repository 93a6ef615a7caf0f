import LifeboatJSON

/// What every Entra tenant has from the start: Microsoft's first-party service principals and the
/// built-in directory roles, with their stable ids.
enum BuiltInDirectory {
    /// Microsoft's own tenant, owner of first-party apps.
    static let microsoftTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

    /// Multi-tenant apps whose service principals exist (or may be created) in any tenant, by appId.
    static let multiTenantApps: [String: String] = [
        "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
        "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
        "00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013": "Windows Azure Service Management API",
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
    ]

    /// The Microsoft Graph permissions Lifeboat's examples use (ids are the same in every tenant).
    static let graphAppRoles: [JSONValue] = [
        role("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
        role("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
        role("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
        role("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
        role("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
    ]

    static let graphScopes: [JSONValue] = [
        scope("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Sign in and read user profile"),
        scope("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Sign users in"),
        scope("14dad69e-099b-42c9-810b-d002981feec1", "profile", "View users' basic profile"),
        scope("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "View users' email address"),
        scope("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "Maintain access to data you have given it access to"),
    ]

    /// Built-in directory roles: template id → display name.
    static let roles: [(String, String)] = [
        ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
        ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
        ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
        ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"),
        ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
        ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
        ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
        ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"),
        ("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator"),
        ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
        ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
        ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"),
        ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"),
        ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"),
        ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
    ]

    static func role(_ id: String, _ value: String, _ name: String) -> JSONValue {
        [
            "id": .string(id), "value": .string(value), "displayName": .string(name), "description": .string(name),
            "allowedMemberTypes": ["Application"], "isEnabled": true, "origin": "Application",
        ]
    }

    static func scope(_ id: String, _ value: String, _ name: String) -> JSONValue {
        [
            "id": .string(id), "value": .string(value), "adminConsentDisplayName": .string(name), "adminConsentDescription": .string(name),
            "userConsentDisplayName": .string(name), "userConsentDescription": .string(name), "isEnabled": true, "type": "User",
        ]
    }

    /// The ids the seeded first-party service principals get.
    static let seededPrincipalPrefix = "5eed0000-0000-4000-8000-"

    /// `true` for a first-party service principal this tenant was seeded with.
    static func isSeeded(_ id: String) -> Bool { id.hasPrefix(seededPrincipalPrefix) }

    /// Writes the first-party service principals and built-in roles into a new tenant.
    static func seed(_ directory: FakeDirectory) throws {
        var number = 0
        for (appId, name) in multiTenantApps.sorted(by: { $0.key < $1.key }) {
            number += 1
            let id = seededPrincipalPrefix + String(format: "%012d", number)
            var principal: JSONObject = [
                "id": .string(id), "appId": .string(appId), "displayName": .string(name), "servicePrincipalType": "Application",
                "accountEnabled": true, "appOwnerOrganizationId": .string(microsoftTenant), "servicePrincipalNames": [.string(appId)],
                "appRoles": [], "oauth2PermissionScopes": [],
            ]
            if appId == "00000003-0000-0000-c000-000000000000" {
                principal["appRoles"] = .array(graphAppRoles)
                principal["oauth2PermissionScopes"] = .array(graphScopes)
                principal["servicePrincipalNames"] = [.string(appId), "https://graph.microsoft.com"]
            }
            try directory.put(id, type: "servicePrincipal", properties: principal)
        }
        for (templateId, name) in roles {
            try directory.put(
                templateId, type: "unifiedRoleDefinition",
                properties: [
                    "id": .string(templateId), "templateId": .string(templateId), "displayName": .string(name),
                    "description": .string(name),
                    "isBuiltIn": true, "isEnabled": true, "resourceScopes": ["/"],
                    "rolePermissions": [
                        ["allowedResourceActions": ["microsoft.directory/allEntities/allProperties/read"], "condition": .null]
                    ],
                ])
        }
    }
}
