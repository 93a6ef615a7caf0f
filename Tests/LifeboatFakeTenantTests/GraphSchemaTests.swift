import Foundation
import LifeboatFakeTenant
import LifeboatJSON
import Testing

@Suite struct GraphSchemaTests {
    let schema = GraphSchema.v1

    @Test func validUserBodyPasses() {
        let body: JSONObject = [
            "@odata.type": "#microsoft.graph.user",
            "accountEnabled": true, "displayName": "Ada Lovelace", "mailNickname": "ada", "userPrincipalName": "ada@contoso.com",
            "passwordProfile": ["forceChangePasswordNextSignIn": true, "password": "Str0ng!Passw0rd#1"],
            "department": "Engineering", "jobTitle": "Engineer", "usageLocation": "GB", "businessPhones": ["+44 20 7946 0000"],
            "onPremisesExtensionAttributes": ["extensionAttribute1": "x"],
            "employeeOrgData": ["costCenter": "42", "division": "R&D"],
            "extension_0123456789abcdef0123456789abcdef_costCode": "CC-7",
            "manager@odata.bind": "https://graph.microsoft.com/v1.0/users/1",
        ]
        #expect(schema.unknownProperties(in: body, of: "user") == [])
    }

    @Test func unknownTopLevelPropertyIsNamed() throws {
        let body: JSONObject = ["displayName": "x", "favouriteColour": "red"]
        #expect(schema.unknownProperties(in: body, of: "user") == ["favouriteColour"])
        let violation = try #require(schema.violations(in: body, of: "microsoft.graph.user").first)
        #expect(violation.message == "Property 'favouriteColour' does not exist on type 'microsoft.graph.user'.")
        #expect(GraphSchema.unknownPropertyMessage("favouriteColour", onType: "user") == violation.message)
    }

    @Test func unknownNestedPropertyNamesTheComplexType() throws {
        let body: JSONObject = ["displayName": "x", "passwordProfile": ["password": "p", "colour": "red"]]
        let violation = try #require(schema.violations(in: body, of: "user").first)
        #expect(violation.path == "passwordProfile.colour")
        #expect(violation.message == "Property 'colour' does not exist on type 'microsoft.graph.passwordProfile'.")
    }

    @Test func bindIsAcceptedOnlyForNavigationProperties() {
        let group: JSONObject = [
            "displayName": "SG", "mailEnabled": false, "mailNickname": "sg", "securityEnabled": true, "groupTypes": [],
            "members@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/1"],
            "owners@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/2"],
        ]
        #expect(schema.unknownProperties(in: group, of: "group") == [])
        #expect(
            schema.unknownProperties(in: ["displayName@odata.bind": "x", "friends@odata.bind": []], of: "group")
                == ["displayName@odata.bind", "friends@odata.bind"])
    }

    @Test func collectionsOfComplexTypesAreChecked() {
        let application: JSONObject = [
            "displayName": "Expenses API",
            "appRoles": [
                [
                    "allowedMemberTypes": ["User"], "displayName": "Approver", "id": "3ad40acb-724e-40a8-92c6-2b9b91113796",
                    "isEnabled": true, "value": "Expenses.Approver", "description": "d",
                ],
                ["displayName": "Reader", "colour": "blue"],
            ],
            "api": ["oauth2PermissionScopes": [["id": "1", "value": "Expenses.Read", "shade": "x"]], "requestedAccessTokenVersion": 2],
            "requiredResourceAccess": [
                [
                    "resourceAppId": "00000003-0000-0000-c000-000000000000",
                    "resourceAccess": [["id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"]],
                ]
            ],
            "web": ["redirectUris": ["https://x/signin"], "implicitGrantSettings": ["enableIdTokenIssuance": false]],
        ]
        #expect(
            schema.unknownProperties(in: application, of: "application") == ["api.oauth2PermissionScopes[0].shade", "appRoles[1].colour"])
    }

    @Test func derivedTypesAreCheckedAsThemselves() {
        let location: JSONObject = [
            "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ", "isTrusted": true,
            "ipRanges": [
                ["@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"],
                ["@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/32", "mask": 3],
            ],
        ]
        #expect(schema.unknownProperties(in: location, of: "namedLocation") == ["ipRanges[1].mask"])
        // countriesAndRegions belongs to countryNamedLocation, not to ipNamedLocation.
        #expect(
            schema.unknownProperties(in: location.merging(["countriesAndRegions": ["KP"]]) { $1 }, of: "namedLocation") == [
                "countriesAndRegions", "ipRanges[1].mask",
            ])
        let foreign = schema.violations(in: ["@odata.type": "#microsoft.graph.group", "displayName": "x"], of: "namedLocation")
        #expect(foreign.map(\.kind) == [.unknownType])
    }

    @Test func conditionalAccessPolicyFromTheContosoExampleIsValid() throws {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Examples/contoso/conditionalAccessPolicies.json"))
        let policies = try #require(JSONCoding.decode(data)["value"]?.arrayValue)
        for policy in policies {
            var body = try #require(policy.objectValue)
            body["createdDateTime"] = nil
            #expect(schema.unknownProperties(in: body, of: "conditionalAccessPolicy") == [], "\(body["displayName"] ?? "?")")
        }
        let bad: JSONObject = [
            "displayName": "x", "state": "enabled", "conditions": ["users": ["includeUsers": ["All"], "includePeople": []]],
        ]
        #expect(schema.unknownProperties(in: bad, of: "conditionalAccessPolicy") == ["conditions.users.includePeople"])
    }

    @Test(arguments: [
        "user", "group", "administrativeUnit", "application", "servicePrincipal", "appRoleAssignment",
        "oauth2PermissionGrant", "unifiedRoleDefinition", "unifiedRoleAssignment", "namedLocation", "ipNamedLocation",
        "countryNamedLocation", "conditionalAccessPolicy", "domain", "organization", "invitation", "passwordProfile",
        "appRole", "permissionScope", "apiApplication", "webApplication", "spaApplication", "publicClientApplication",
        "requiredResourceAccess", "resourceAccess", "keyCredential", "optionalClaims", "conditionalAccessConditionSet",
        "conditionalAccessGrantControls", "conditionalAccessSessionControls", "ipRange", "iPv4CidrRange", "iPv6CidrRange",
        "unifiedRolePermission",
    ])
    func restoredTypesArePresentWithFlattenedBases(_ name: String) throws {
        let found = schema.type(named: name)
        #expect(found != nil, "\(name) is not in graph-schema.json")
        guard let type = found else { return }
        if type.kind == "entity" {
            #expect(type.properties["id"] == "Edm.String")
        }
        if ["user", "group", "application", "servicePrincipal", "administrativeUnit"].contains(name) {
            #expect(type.properties["deletedDateTime"] == "Edm.DateTimeOffset")
        }
    }

    @Test func resourceIsCompact() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/LifeboatFakeTenant/Resources/graph-schema.json")
        let size = try Data(contentsOf: url).count
        #expect(size < 1 << 20)
        #expect(schema.type(named: "group")?.navigation["members"] == "Collection(graph.directoryObject)")
    }
}
