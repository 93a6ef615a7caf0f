import Foundation

/// Export directories in the shapes other tools write, built for the importer tests: an EntraExporter
/// tree (`Export-Entra -All`) and a folder of PowerShell `Export-Csv` / `ConvertTo-Json` files.
///
/// Both describe the same small Contoso-like tenant so that the shipped runbooks plan against the import.
package enum ImportFixtures {
    package static let tenantID = "5b7c1d2e-0f4a-4b3c-9d8e-7f6a5b4c3d2e"

    /// Ids shared by both fixtures.
    package enum IDs {
        package static let breakGlass1 = "11111111-0000-4000-8000-000000000001"
        package static let breakGlass2 = "11111111-0000-4000-8000-000000000002"
        package static let operatorUser = "11111111-0000-4000-8000-000000000003"
        package static let alice = "11111111-0000-4000-8000-000000000004"
        package static let bob = "11111111-0000-4000-8000-000000000005"
        package static let syncedUser = "11111111-0000-4000-8000-000000000006"
        package static let guest = "11111111-0000-4000-8000-000000000007"
        package static let finance = "22222222-0000-4000-8000-000000000001"
        package static let dynamicGroup = "22222222-0000-4000-8000-000000000002"
        package static let m365Group = "22222222-0000-4000-8000-000000000003"
        package static let breakGlassGroup = "22222222-0000-4000-8000-000000000004"
        package static let adminUnit = "33333333-0000-4000-8000-000000000001"
        package static let application = "44444444-0000-4000-8000-000000000001"
        package static let appId = "44444444-0000-4000-8000-0000000000a1"
        package static let servicePrincipal = "44444444-0000-4000-8000-000000000002"
        package static let graphServicePrincipal = "44444444-0000-4000-8000-000000000003"
        package static let graphAppId = "00000003-0000-0000-c000-000000000000"
        package static let globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
        package static let directoryRoleObject = "55555555-0000-4000-8000-000000000001"
        package static let namedLocation = "66666666-0000-4000-8000-000000000001"
        package static let policy = "77777777-0000-4000-8000-000000000001"
        package static let truncatedPolicy = "77777777-0000-4000-8000-000000000002"
        package static let brokenPolicy = "77777777-0000-4000-8000-000000000003"
        package static let appRoleAssignment = "aRa-assignment-1"
        package static let grant = "grant-1"
    }

    // MARK: EntraExporter

    /// Writes an EntraExporter tree into `root`. The organization file is UTF-16 LE with a BOM, as
    /// Windows PowerShell 5.1's `Out-File` writes it.
    package static func writeEntraExporter(into root: URL) throws {
        func object(_ path: String, _ json: String, utf16: Bool = false) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if utf16 {
                var data = Data([0xFF, 0xFE])
                data.append(json.data(using: .utf16LittleEndian)!)
                try data.write(to: url)
            } else {
                try Data(json.utf8).write(to: url)
            }
        }
        func item(_ folder: String, _ id: String, _ json: String) throws {
            try object("\(folder)/\(id)/\(id).json", json)
        }
        try object(
            "Organization/Organization.json",
            """
            {
              "id": "\(tenantID)",
              "displayName": "Contoso Ltd",
              "verifiedDomains": [
                {"name": "contoso.com", "isDefault": true, "isInitial": false, "type": "Managed"},
                {"name": "contoso.onmicrosoft.com", "isDefault": false, "isInitial": true, "type": "Managed"}
              ]
            }
            """, utf16: true)
        try item(
            "Domains", "contoso.com",
            #"{"id": "contoso.com", "isDefault": true, "isInitial": false, "isVerified": true, "authenticationType": "Managed"}"#)
        try item(
            "Domains", "contoso.onmicrosoft.com",
            #"{"id": "contoso.onmicrosoft.com", "isDefault": false, "isInitial": true, "isVerified": true, "authenticationType": "Managed"}"#
        )

        func user(_ id: String, _ upn: String, _ name: String, extra: String = "") throws {
            try item(
                "Users", id,
                """
                {"id": "\(id)", "userPrincipalName": "\(upn)", "displayName": "\(name)", "accountEnabled": true,
                 "mailNickname": "\(upn.split(separator: "@")[0].replacingOccurrences(of: "#", with: ""))", "usageLocation": "US",
                 "extensions": [], "@odata.context": "ignored"\(extra)}
                """)
        }
        try user(IDs.breakGlass1, "bg-admin-01@contoso.onmicrosoft.com", "Break Glass 01")
        try user(IDs.breakGlass2, "bg-admin-02@contoso.onmicrosoft.com", "Break Glass 02")
        try user(IDs.operatorUser, "adm-aisha.bello@contoso.com", "Aisha Bello (admin)")
        try user(
            IDs.alice, "alice@contoso.com", "Alice Wong",
            extra: #", "userType": "Member", "assignedLicenses": [{"skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "disabledPlans": []}]"#)
        try user(IDs.bob, "bob@contoso.com", "Bob Stone")
        try user(
            IDs.syncedUser, "sam.synced@contoso.com", "Sam Synced",
            extra: #", "onPremisesSyncEnabled": true, "onPremisesImmutableId": "c2FtCg==""#)
        try user(IDs.guest, "maria_fabrikam.com#EXT#@contoso.onmicrosoft.com", "Maria Garcia", extra: #", "userType": "Guest""#)

        func group(_ id: String, _ name: String, _ json: String) throws {
            try item("Groups", id, #"{"id": "\#(id)", "displayName": "\#(name)", "# + json + "}")
        }
        try group(
            IDs.finance, "SG-Finance", #""mailEnabled": false, "securityEnabled": true, "mailNickname": "sg-finance", "groupTypes": []"#)
        try item(
            "Groups/\(IDs.finance)/Members", IDs.alice,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.alice)", "userPrincipalName": "alice@contoso.com", "displayName": "Alice Wong"}"##
        )
        try item("Groups/\(IDs.finance)/Members", IDs.bob, #"{"id": "\#(IDs.bob)", "displayName": "Bob Stone"}"#)
        try item("Groups/\(IDs.finance)/Owners", IDs.alice, ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.alice)"}"##)
        try group(
            IDs.dynamicGroup, "DYN-Everyone",
            #""mailEnabled": false, "securityEnabled": true, "mailNickname": "dyn-everyone", "groupTypes": ["DynamicMembership"], "membershipRule": "(user.accountEnabled -eq true)", "membershipRuleProcessingState": "On""#
        )
        try item(
            "Groups/\(IDs.dynamicGroup)/Owners", IDs.operatorUser,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.operatorUser)"}"##)
        try group(
            IDs.m365Group, "Project Phoenix",
            #""mailEnabled": true, "securityEnabled": false, "mailNickname": "phoenix", "groupTypes": ["Unified"], "visibility": "Private""#
        )
        try item("Groups/\(IDs.m365Group)/Members", IDs.guest, ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.guest)"}"##)
        try item(
            "Groups/\(IDs.m365Group)/Members", "99999999-0000-4000-8000-000000000001",
            ##"{"@odata.type": "#microsoft.graph.device", "id": "99999999-0000-4000-8000-000000000001"}"##)
        try group(
            IDs.breakGlassGroup, "SG-BreakGlass-Exclusion",
            #""mailEnabled": false, "securityEnabled": true, "mailNickname": "sg-bg", "groupTypes": []"#)
        try item(
            "Groups/\(IDs.breakGlassGroup)/Members", IDs.breakGlass1,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.breakGlass1)"}"##)
        try item(
            "Groups/\(IDs.breakGlassGroup)/Members", IDs.breakGlass2,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.breakGlass2)"}"##)

        try item("AdministrativeUnits", IDs.adminUnit, #"{"id": "\#(IDs.adminUnit)", "displayName": "Finance AU", "description": null}"#)
        try item(
            "AdministrativeUnits/\(IDs.adminUnit)/Members", IDs.alice,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.alice)"}"##)

        try item(
            "Applications", IDs.application,
            """
            {"id": "\(IDs.application)", "appId": "\(IDs.appId)", "displayName": "Contoso Expenses", "signInAudience": "AzureADMyOrg",
             "identifierUris": ["api://\(IDs.appId)"],
             "appRoles": [{"id": "c0c0c0c0-0000-4000-8000-000000000001", "value": "Expenses.Submit", "allowedMemberTypes": ["User"], "isEnabled": true, "displayName": "Submit", "description": "Submit"}],
             "passwordCredentials": [{"keyId": "a1a1a1a1-0000-4000-8000-000000000001", "displayName": "ci", "hint": "Abc", "secretText": null, "endDateTime": "2027-01-01T00:00:00Z"}],
             "keyCredentials": [{"keyId": "b1b1b1b1-0000-4000-8000-000000000001", "type": "AsymmetricX509Cert", "usage": "Verify", "key": null}]}
            """)
        try item(
            "Applications/\(IDs.application)/Owners", IDs.alice, ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.alice)"}"##)
        try item("Applications/\(IDs.application)/ExtensionProperties", "ext-1", #"{"id": "ext-1", "name": "extension_x"}"#)

        try item(
            "ServicePrincipals", IDs.servicePrincipal,
            """
            {"id": "\(IDs.servicePrincipal)", "appId": "\(IDs.appId)", "displayName": "Contoso Expenses", "accountEnabled": true,
             "appOwnerOrganizationId": "\(tenantID)", "servicePrincipalType": "Application",
             "appRoles": [{"id": "c0c0c0c0-0000-4000-8000-000000000001", "value": "Expenses.Submit", "allowedMemberTypes": ["User"], "isEnabled": true, "displayName": "Submit", "description": "Submit"}]}
            """)
        let assignment = """
            {"id": "\(IDs.appRoleAssignment)", "appRoleId": "c0c0c0c0-0000-4000-8000-000000000001", "principalId": "\(IDs.finance)",
             "principalType": "Group", "resourceId": "\(IDs.servicePrincipal)", "resourceDisplayName": "Contoso Expenses"}
            """
        try item("ServicePrincipals/\(IDs.servicePrincipal)/AppRoleAssignedTo", IDs.appRoleAssignment, assignment)
        try item(
            "ServicePrincipals/\(IDs.servicePrincipal)/Owners", IDs.alice,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.alice)"}"##)
        try item(
            "ServicePrincipals/\(IDs.servicePrincipal)/Oauth2PermissionGrants", IDs.grant,
            """
            {"id": "\(IDs.grant)", "clientId": "\(IDs.servicePrincipal)", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "\(IDs.graphServicePrincipal)", "scope": "User.Read"}
            """)
        try item(
            "ServicePrincipals", IDs.graphServicePrincipal,
            """
            {"id": "\(IDs.graphServicePrincipal)", "appId": "\(IDs.graphAppId)", "displayName": "Microsoft Graph", "accountEnabled": true,
             "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "servicePrincipalType": "Application"}
            """)
        // The same grant seen from the resource's side: must be imported once.
        try item(
            "ServicePrincipals/\(IDs.graphServicePrincipal)/Oauth2PermissionGrants", IDs.grant,
            """
            {"id": "\(IDs.grant)", "clientId": "\(IDs.servicePrincipal)", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "\(IDs.graphServicePrincipal)", "scope": "User.Read"}
            """)

        try item(
            "RoleManagement/Directory/RoleDefinitions", IDs.globalAdmin,
            """
            {"id": "\(IDs.globalAdmin)", "templateId": "\(IDs.globalAdmin)", "displayName": "Global Administrator", "isBuiltIn": true,
             "isEnabled": true, "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/users/allProperties/allTasks"]}]}
            """)
        for (index, principal) in [IDs.breakGlass1, IDs.breakGlass2, IDs.operatorUser].enumerated() {
            let id = "ra-\(index)"
            try item(
                "RoleManagement/Directory/RoleAssignments", id,
                """
                {"id": "\(id)", "roleDefinitionId": "\(IDs.globalAdmin)", "principalId": "\(principal)", "directoryScopeId": "/",
                 "principal": {"@odata.type": "#microsoft.graph.user", "id": "\(principal)", "displayName": "expanded"}}
                """)
        }
        try item(
            "DirectoryRoles", IDs.directoryRoleObject,
            #"{"id": "\#(IDs.directoryRoleObject)", "displayName": "Global Administrator", "roleTemplateId": "\#(IDs.globalAdmin)"}"#)
        try item(
            "DirectoryRoles/\(IDs.directoryRoleObject)/Members", IDs.breakGlass1,
            ##"{"@odata.type": "#microsoft.graph.user", "id": "\##(IDs.breakGlass1)"}"##)

        try item(
            "Identity/Conditional/NamedLocations", IDs.namedLocation,
            """
            {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "\(IDs.namedLocation)", "displayName": "HQ", "isTrusted": true,
             "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}]}
            """)
        try item(
            "Identity/Conditional/AccessPolicies", IDs.policy,
            """
            {"id": "\(IDs.policy)", "displayName": "Require MFA for admins", "state": "enabled",
             "conditions": {"clientAppTypes": ["all"],
               "applications": {"includeApplications": ["All"], "excludeApplications": []},
               "users": {"includeUsers": [], "excludeUsers": ["\(IDs.breakGlass1)", "\(IDs.breakGlass2)"], "includeGroups": [],
                         "excludeGroups": ["\(IDs.breakGlassGroup)", "88888888-0000-4000-8000-00000000dead"], "includeRoles": ["\(IDs.globalAdmin)"], "excludeRoles": []},
               "locations": {"includeLocations": ["All"], "excludeLocations": ["\(IDs.namedLocation)"]}},
             "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}
            """)
        try object("Policies/AuthorizationPolicy/authorizationPolicy/authorizationPolicy.json", #"{"id": "authorizationPolicy"}"#)
    }

    // MARK: PowerShell CSV

    /// One fixture file: its name and bytes.
    package struct File: Sendable {
        package var name: String
        package var data: Data
        package init(_ name: String, _ text: String, bom: Bool = false) {
            self.name = name
            data = (bom ? Data([0xEF, 0xBB, 0xBF]) : Data()) + Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        }
    }

    /// The PowerShell export files: AzureAD users (with `#TYPE`, BOM, quoted commas and line breaks, flattened
    /// lists), Microsoft.Graph groups (semicolon-delimited, flattened GroupTypes), MSOnline domains, AzureAD
    /// roles, memberships, and Conditional Access as ConvertTo-Json with one truncated and one unusable policy.
    package static var powerShellFiles: [File] {
        let list = "System.Collections.Generic.List`1[System.String]"
        return [
            File(
                "AzureADUsers.csv",
                """
                #TYPE Microsoft.Open.AzureAD.Model.User
                "ObjectId","ObjectType","AccountEnabled","DisplayName","UserPrincipalName","MailNickName","GivenName","Surname","Mail","OtherMails","ProxyAddresses","DirSyncEnabled","ImmutableId","UsageLocation","UserType","AssignedLicenses","PhysicalDeliveryOfficeName","JobTitle","ManagerUserPrincipalName","IsCompromised"
                "\(IDs.breakGlass1)","User","True","Break Glass 01","bg-admin-01@contoso.onmicrosoft.com","bg-admin-01","","","","\(list)","","","","US","Member","\(list)","","","",""
                "\(IDs.breakGlass2)","User","True","Break Glass 02","bg-admin-02@contoso.onmicrosoft.com","bg-admin-02","","","","\(list)","","","","US","Member","\(list)","","","",""
                "\(IDs.operatorUser)","User","True","Aisha Bello (admin)","adm-aisha.bello@contoso.com","adm-aisha.bello","Aisha","Bello","","\(list)","","","","US","Member","\(list)","","","",""
                "\(IDs.alice)","User","True","Wong, Alice","alice@contoso.com","alice","Alice","Wong","alice@contoso.com","\(list)","SMTP:alice@contoso.com;smtp:alice.wong@contoso.com","","","US","Member","System.Collections.Generic.List`1[Microsoft.Open.AzureAD.Model.AssignedLicense]","Building 4, Floor 2","Head of ""Finance""
                Operations","adm-aisha.bello@contoso.com",""
                "\(IDs.bob)","User","False","Bob Stone","bob@contoso.com","bob","Bob","Stone","","\(list)","","","","","Member","\(list)","","","\(IDs.alice)",""
                "\(IDs.syncedUser)","User","True","Sam Synced","sam.synced@contoso.com","sam.synced","","","","\(list)","","True","c2FtCg==","US","Member","\(list)","","","nobody@contoso.com",""
                "\(IDs.guest)","User","True","Maria Garcia","maria_fabrikam.com#EXT#@contoso.onmicrosoft.com","maria_fabrikam.com#EXT#","","","maria@fabrikam.com","\(list)","","","","","Guest","\(list)","","","",""
                """, bom: true),
            File(
                "groups.csv",
                """
                "Id";"DisplayName";"Description";"GroupTypes";"MailEnabled";"MailNickname";"SecurityEnabled";"MembershipRule";"IsAssignableToRole";"OnPremisesSyncEnabled"
                "\(IDs.finance)";"SG-Finance";"Finance; all staff
                second line";"System.String[]";"False";"sg-finance";"True";"";"";""
                "\(IDs.dynamicGroup)";"DYN-Everyone";"";"System.String[]";"False";"dyn-everyone";"True";"(user.accountEnabled -eq true)";"";""
                "\(IDs.m365Group)";"Project Phoenix";"";"System.String[]";"True";"phoenix";"False";"";"";""
                "\(IDs.breakGlassGroup)";"SG-BreakGlass-Exclusion";"";"System.String[]";"False";"";"True";"";"";""
                """),
            File(
                "group-members.csv",
                """
                "GroupObjectId","GroupDisplayName","MemberObjectId","MemberUserPrincipalName","MemberObjectType"
                "\(IDs.finance)","SG-Finance","\(IDs.alice)","alice@contoso.com","User"
                "\(IDs.finance)","SG-Finance","","bob@contoso.com","User"
                "","SG-BreakGlass-Exclusion","\(IDs.breakGlass1)","","User"
                "","SG-BreakGlass-Exclusion","\(IDs.breakGlass2)","",""
                "\(IDs.m365Group)","Project Phoenix","\(IDs.guest)","","User"
                "\(IDs.finance)","SG-Finance","\(IDs.alice)","alice@contoso.com","User"
                "aaaaaaaa-0000-4000-8000-000000000000","Deleted group","\(IDs.bob)","",""
                """),
            File(
                "applications.csv",
                """
                "ObjectId","AppId","DisplayName","IdentifierUris","PasswordCredentials","AvailableToOtherTenants","AppRoles"
                "\(IDs.application)","\(IDs.appId)","Contoso Expenses","\(list)","System.Collections.Generic.List`1[Microsoft.Open.AzureAD.Model.PasswordCredential]","False","System.Collections.Generic.List`1[Microsoft.Open.AzureAD.Model.AppRole]"
                """),
            File(
                "Get-MgServicePrincipal.csv",
                """
                "Id","AppId","DisplayName","AccountEnabled","AppOwnerOrganizationId","ServicePrincipalNames","AppRoleAssignmentRequired"
                "\(IDs.servicePrincipal)","\(IDs.appId)","Contoso Expenses","True","\(tenantID)","System.String[]","True"
                "\(IDs.graphServicePrincipal)","\(IDs.graphAppId)","Microsoft Graph","True","f8cdef31-a31e-4b4a-93e4-5f571e91255a","https://graph.microsoft.com;00000003-0000-0000-c000-000000000000","False"
                """),
            File(
                "directory-roles.csv",
                """
                "ObjectId","ObjectType","Description","DisplayName","RoleTemplateId"
                "\(IDs.directoryRoleObject)","Role","Can manage all aspects, of everything.","Global Administrator","\(IDs.globalAdmin)"
                """),
            File(
                "role-members.csv",
                """
                "RoleObjectId","RoleDisplayName","MemberObjectId","MemberUserPrincipalName","MemberObjectType"
                "\(IDs.directoryRoleObject)","Global Administrator","\(IDs.breakGlass1)","bg-admin-01@contoso.onmicrosoft.com","User"
                "\(IDs.directoryRoleObject)","Global Administrator","\(IDs.breakGlass2)","bg-admin-02@contoso.onmicrosoft.com","User"
                "\(IDs.directoryRoleObject)","Global Administrator","\(IDs.operatorUser)","adm-aisha.bello@contoso.com","User"
                """),
            File(
                "MsolDomains.csv",
                """
                #TYPE Microsoft.Online.Administration.Domain
                "Authentication","Capabilities","IsDefault","IsInitial","Name","RootDomain","Status","VerificationMethod"
                "Managed","Email, OfficeCommunicationsOnline","True","False","contoso.com","","Verified","DnsRecord"
                "Managed","Email","False","True","contoso.onmicrosoft.com","","Verified",""
                """),
            File(
                "organization.csv",
                """
                "ObjectId","DisplayName","CountryLetterCode","VerifiedDomains"
                "\(tenantID)","Contoso Ltd","US","System.Collections.Generic.List`1[Microsoft.Open.AzureAD.Model.VerifiedDomain]"
                """),
            File(
                "conditional-access-policies.json",
                """
                [
                  {
                    "Conditions": {
                      "Applications": {"ExcludeApplications": [], "IncludeApplications": ["All"], "IncludeUserActions": [], "AdditionalProperties": {}},
                      "ClientAppTypes": ["all"],
                      "Locations": {"ExcludeLocations": ["\(IDs.namedLocation)"], "IncludeLocations": ["All"], "AdditionalProperties": {}},
                      "Users": {"ExcludeGroups": ["\(IDs.breakGlassGroup)"], "ExcludeUsers": ["\(IDs.breakGlass1)", "\(IDs.breakGlass2)"],
                                "IncludeGroups": [], "IncludeRoles": ["\(IDs.globalAdmin)"], "IncludeUsers": [], "ExcludeRoles": [], "AdditionalProperties": {}},
                      "AdditionalProperties": {}
                    },
                    "CreatedDateTime": "2020-11-02T10:15:22Z",
                    "DisplayName": "Require MFA for admins",
                    "GrantControls": {"BuiltInControls": ["mfa"], "Operator": "OR", "AdditionalProperties": {}},
                    "Id": "\(IDs.policy)",
                    "SessionControls": null,
                    "State": "enabled",
                    "AdditionalProperties": {"@odata.context": "ignored"}
                  },
                  {
                    "Conditions": {
                      "Applications": {"IncludeApplications": ["\(IDs.appId)"], "ExcludeApplications": []},
                      "Users": {"IncludeUsers": ["All"], "ExcludeUsers": ["\(IDs.breakGlass1)"], "IncludeGroups": [], "ExcludeGroups": []}
                    },
                    "DisplayName": "Block legacy, truncated",
                    "GrantControls": {"BuiltInControls": ["block"], "Operator": "OR",
                                      "AuthenticationStrength": "Microsoft.Graph.PowerShell.Models.MicrosoftGraphAuthenticationStrengthPolicy"},
                    "Id": "\(IDs.truncatedPolicy)",
                    "State": "enabledForReportingButNotEnforced"
                  },
                  {
                    "Conditions": {"Applications": "Microsoft.Graph.PowerShell.Models.MicrosoftGraphConditionalAccessApplications",
                                   "Users": "Microsoft.Graph.PowerShell.Models.MicrosoftGraphConditionalAccessUsers"},
                    "DisplayName": "Too shallow",
                    "Id": "\(IDs.brokenPolicy)",
                    "State": "enabled"
                  }
                ]
                """),
            File(
                "named-locations.json",
                """
                {
                  "CreatedDateTime": "2020-11-02T09:41:07Z",
                  "DisplayName": "HQ",
                  "Id": "\(IDs.namedLocation)",
                  "AdditionalProperties": {
                    "@odata.type": "#microsoft.graph.ipNamedLocation",
                    "isTrusted": true,
                    "ipRanges": [{"cidrAddress": "203.0.113.0/24"}]
                  }
                }
                """),
            File("notes.txt", "exported 2025-01-01 by the weekly backup job\n"),
        ]
    }

    /// Writes the PowerShell export files into `root`, optionally changing some first.
    package static func writePowerShell(into root: URL, replacing: [String: String] = [:], omitting: Set<String> = []) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for file in powerShellFiles where !omitting.contains(file.name) {
            let data = replacing[file.name].map { File(file.name, $0).data } ?? file.data
            try data.write(to: root.appendingPathComponent(file.name))
        }
    }
}
