import Foundation
import LifeboatGraph
import LifeboatJSON

/// Creates, updates and deletes directory objects with Graph's rules.
extension FakeTenant {
    static let conditionalAccessUserKeywords: Set<String> = ["All", "None", "GuestsOrExternalUsers"]
    static let conditionalAccessAppKeywords: Set<String> = ["All", "None", "Office365", "MicrosoftAdminPortals"]
    static let conditionalAccessLocationKeywords: Set<String> = ["All", "AllTrusted"]

    func create(_ type: String, _ body: JSONObject, keyProperty: String? = nil) throws -> JSONObject {
        // Graph refuses properties its types do not have (from the v1.0 metadata).
        try GraphSchema.v1.validate(body, as: type)
        try checkReadOnly(body, type: type, except: keyProperty)
        // Enum values from the CSDL, navigation properties inline and nested annotations (resource pages; Docs/fake-tenant.md).
        try GraphSchema.v1.validateEnums(body, as: type)
        switch type {
        case "user": return try createUser(body)
        case "group": return try createGroup(body)
        case "application": return try createApplication(body)
        case "servicePrincipal": return try createServicePrincipal(body)
        case "oauth2PermissionGrant": return try createGrant(body)
        case "unifiedRoleDefinition": return try createRoleDefinition(body)
        case "unifiedRoleAssignment": return try createRoleAssignment(body)
        case "namedLocation": return try createNamedLocation(body)
        case "conditionalAccessPolicy": return try createPolicy(body)
        case "authenticationStrengthPolicy": return try createStrengthPolicy(body)
        case "administrativeUnit": return try createAdministrativeUnit(body)
        case "domain": return try createDomain(body)
        default: throw GraphFailure(status: 405, code: "Request_BadRequest", message: "Objects of type \(type) cannot be created.")
        }
    }

    /// Stores a new object and makes it visible after the replication lag.
    func insert(_ object: JSONObject, type: String, links: [(String, [String])] = []) throws -> JSONObject {
        guard let id = object["id"]?.stringValue else {
            throw GraphFailure(status: 500, code: "InternalServerError", message: "object without id")
        }
        try directory.transaction {
            try directory.put(id, type: type, properties: object)
            for (relation, targets) in links {
                for target in targets { try directory.addLink(id, relation, target) }
            }
        }
        created(id, type: type)
        return object
    }

    // MARK: Users

    func createUser(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"], type: "user")
        let upn = try checkUPN(body["userPrincipalName"]?.stringValue)
        guard directory.lookup("user", "userPrincipalName", upn) == nil else { throw GraphFailure.alreadyExists("userPrincipalName") }
        guard body["passwordProfile"]?["password"]?.stringValue?.isEmpty == false else {
            throw GraphFailure.badRequest("Property 'passwordProfile.password' is required when creating a user.")
        }
        var user = body
        user["passwordProfile"] = nil  // Graph never returns the password.
        user["id"] = .string(newID())
        user["createdDateTime"] = .string(nowStamp())
        user["userType"] = body["userType"] ?? "Member"
        user["mail"] = body["mail"] ?? .null
        return try insert(user, type: "user")
    }

    /// A UPN whose domain is verified in this tenant.
    func checkUPN(_ value: String?) throws(GraphFailure) -> String {
        guard let upn = value, let at = upn.lastIndex(of: "@"), upn.first != "@" else {
            throw GraphFailure.badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        }
        let domain = upn[upn.index(after: at)...].lowercased()
        guard directory.object(domain)?.properties["isVerified"]?.boolValue == true else {
            throw GraphFailure.badRequest(
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
            )
        }
        return upn
    }

    func invite(_ request: FakeRequest) throws -> HTTPResponse {
        let body = request.body ?? [:]
        try GraphSchema.v1.validate(body, as: "invitation")
        try require(body, ["invitedUserEmailAddress", "inviteRedirectUrl"], type: "invitation")
        guard let email = body["invitedUserEmailAddress"]?.stringValue, email.contains("@") else {
            throw GraphFailure.badRequest("Invalid invitedUserEmailAddress.")
        }
        let upn = email.replacingOccurrences(of: "@", with: "_") + "#EXT#@" + initialDomain
        var userID = directory.lookup("user", "userPrincipalName", upn)
        if userID == nil {
            let user: JSONObject = [
                "id": .string(newID()), "userPrincipalName": .string(upn), "mail": .string(email), "otherMails": [.string(email)],
                "displayName": body["invitedUserDisplayName"] ?? .string(email), "userType": body["invitedUserType"] ?? "Guest",
                "accountEnabled": true, "creationType": "Invitation", "externalUserState": "PendingAcceptance",
                "mailNickname": .string(email.replacingOccurrences(of: "@", with: "_")),
                "createdDateTime": .string(nowStamp()),
            ]
            userID = try insert(user, type: "user")["id"]?.stringValue
        }
        // Graph answers an invitation of an existing guest with that guest.
        return try json(
            201,
            [
                "id": .string(newID()), "invitedUserEmailAddress": .string(email),
                "invitedUserDisplayName": body["invitedUserDisplayName"] ?? .string(email),
                "inviteRedirectUrl": body["inviteRedirectUrl"]!, "sendInvitationMessage": body["sendInvitationMessage"] ?? false,
                "inviteRedeemUrl": .string("https://login.microsoftonline.com/redeem?tenant=\(tenantID)"), "status": "PendingAcceptance",
                "invitedUser": ["id": .string(userID ?? "")], "invitedUserType": body["invitedUserType"] ?? "Guest",
            ])
    }

    // MARK: Groups and administrative units

    func createGroup(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName", "mailEnabled", "mailNickname", "securityEnabled"], type: "group")
        let types = body["groupTypes"]?.stringArray ?? []
        let unified = types.contains("Unified"), dynamic = types.contains("DynamicMembership")
        if dynamic, body["membershipRule"]?.stringValue == nil {
            throw GraphFailure.badRequest("A dynamic group requires membershipRule.")
        }
        if body["isAssignableToRole"]?.boolValue == true, body["securityEnabled"]?.boolValue != true || dynamic {
            throw GraphFailure.badRequest("A role-assignable group must be a security-enabled group with assigned membership.")
        }
        if body["mailEnabled"]?.boolValue == true, !unified {
            throw GraphFailure.badRequest("Creating mail-enabled security groups or distribution groups is not supported through Graph.")
        }
        if let name = body["uniqueName"]?.stringValue, directory.lookup("group", "uniqueName", name) != nil {
            throw GraphFailure.alreadyExists("uniqueName")
        }
        // mailNickname is "unique in the organization" (api-reference/v1.0/resources/group.md); checked for Microsoft 365 groups.
        if unified, let nickname = body["mailNickname"]?.stringValue, directory.hasGroup(nickname: nickname) {
            throw GraphFailure.alreadyExists("mailNickname")
        }
        let members = body["members@odata.bind"]?.arrayValue ?? [], owners = body["owners@odata.bind"]?.arrayValue ?? []
        guard members.count + owners.count <= 20 else {
            throw GraphFailure.badRequest("A maximum of 20 members and owners can be added when creating a group.")
        }
        if dynamic, !members.isEmpty { throw GraphFailure.badRequest("Members of a dynamic group cannot be added.") }
        let memberIDs = try resolve(members), ownerIDs = try resolve(owners, allowed: ["user", "servicePrincipal"])
        var group = body.filter { !$0.key.hasSuffix("@odata.bind") }
        group["id"] = .string(newID())
        group["createdDateTime"] = .string(nowStamp())
        group["groupTypes"] = .array(types.map(JSONValue.string))
        if unified { group["mail"] = .string("\(body["mailNickname"]!.stringValue!)@\(initialDomain)") }
        return try insert(group, type: "group", links: [("members", memberIDs), ("owners", ownerIDs)])
    }

    func createAdministrativeUnit(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName"], type: "administrativeUnit")
        var unit = body.filter { !$0.key.hasSuffix("@odata.bind") }
        unit["id"] = .string(newID())
        return try insert(unit, type: "administrativeUnit")
    }

    /// Adds references to a relationship, all or nothing, at most 20 at a time.
    func bind(_ id: String, type: String, relation: String, references: [JSONValue]) throws {
        let ids = try bindTargets(id, type: type, relation: relation, references: references)
        try directory.transaction {
            for target in ids { try directory.addLink(id, relation, target) }
            try directory.touch(id)
        }
    }

    /// The targets of a bind, after every check Graph makes; nothing is changed.
    func bindTargets(_ id: String, type: String, relation: String, references: [JSONValue]) throws -> [String] {
        guard references.count <= 20 else {
            throw GraphFailure.badRequest("The request exceeds the limit of 20 \(relation) that can be added in one request.")
        }
        if type == "group", relation == "members",
            directory.object(id)?.properties["groupTypes"]?.stringArray?.contains("DynamicMembership") == true
        {
            throw GraphFailure(status: 400, code: "Request_BadRequest", message: "Members of a dynamic group cannot be added or removed.")
        }
        // A dynamic administrative unit's members come from its rule (api-reference/v1.0/resources/administrativeunit.md: membershipType; api-reference/v1.0/api/administrativeunit-post-members.md).
        if type == "administrativeUnit", relation == "members",
            directory.object(id)?.properties["membershipType"]?.stringValue?.caseInsensitiveCompare("Dynamic") == .orderedSame
        {
            throw GraphFailure(
                status: 400, code: "Request_BadRequest", message: "Members of a dynamic administrative unit cannot be added or removed.")
        }
        let allowed: Set<String> =
            relation == "owners" ? ["user", "servicePrincipal"] : ["user", "group", "servicePrincipal", "device", "orgContact"]
        let ids = try resolve(references, allowed: allowed)
        if ids.contains(id) { throw GraphFailure.badRequest("An object cannot be a member of itself.") }
        for target in ids where directory.hasLink(id, relation, target) {
            throw GraphFailure.badRequest(
                "One or more added object references already exist for the following modified properties: '\(relation)'.")
        }
        return ids
    }

    /// The text after the last `/` of a reference URL (`…/directoryObjects/{id}` → `{id}`), `nil` when it is empty.
    static func lastSegment(_ url: String) -> String? {
        var end = url.utf8.endIndex
        while end > url.utf8.startIndex, url.utf8[url.utf8.index(before: end)] == UInt8(ascii: "/") { end = url.utf8.index(before: end) }
        let start = url.utf8[..<end].lastIndex(of: UInt8(ascii: "/")).map { url.utf8.index(after: $0) } ?? url.utf8.startIndex
        return start < end ? String(url[start..<end]) : nil
    }

    /// Resolves `…/directoryObjects/{id}` references to visible objects; any missing one fails them all.
    func resolve(_ references: [JSONValue], allowed: Set<String> = ["user", "group", "servicePrincipal", "device", "orgContact"]) throws
        -> [String]
    {
        var ids: [String] = []
        for reference in references {
            guard let url = reference.stringValue, let id = Self.lastSegment(url) else {
                throw GraphFailure.badRequest("Invalid object reference \(JSONCoding.string(reference)).")
            }
            guard let entry = visible(id), allowed.contains(entry.type) else {
                throw GraphFailure.badRequest(
                    "Invalid object identifier '\(id)': one or more of the objects being referenced do not exist.",
                    code: "Request_BadRequest")
            }
            ids.append(id)
        }
        return ids
    }

    // MARK: Applications and service principals

    func createApplication(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName"], type: "application")
        if let credentials = body["passwordCredentials"]?.arrayValue, !credentials.isEmpty {
            throw GraphFailure.badRequest("Updating the passwordCredentials property is not supported; use addPassword.")
        }
        if let name = body["uniqueName"]?.stringValue, directory.lookup("application", "uniqueName", name) != nil {
            throw GraphFailure.alreadyExists("uniqueName")
        }
        let appId = newID()
        try checkIdentifierURIs(body["identifierUris"]?.stringArray ?? [], appId: appId, excluding: nil)
        for role in body["appRoles"]?.arrayValue ?? [] where role["id"]?.stringValue == nil {
            throw GraphFailure.badRequest("Property 'id' is required on every appRole.")
        }
        var app = body.filter { !$0.key.hasSuffix("@odata.bind") }
        app["id"] = .string(newID())
        app["appId"] = .string(appId)
        app["createdDateTime"] = .string(nowStamp())
        app["publisherDomain"] = .string(initialDomain)
        app["passwordCredentials"] = []
        let owners = try resolve(body["owners@odata.bind"]?.arrayValue ?? [], allowed: ["user", "servicePrincipal"])
        return try insert(app, type: "application", links: [("owners", owners)])
    }

    /// Read-only and computed properties are refused on create and update, even with the value Graph holds
    /// (the type's resource page, see ``ReadOnlyProperties``; concepts/errors.md: 400).
    func checkReadOnly(_ body: JSONObject, type: String, except: String?) throws(GraphFailure) {
        var checked = body
        if let except { checked[except] = nil }
        if let name = ReadOnlyProperties.first(in: checked, type: type) {
            throw GraphFailure.badRequest("Property '\(name)' is read-only and cannot be set.", code: "Request_BadRequest")
        }
    }

    /// `api://{guid}` identifier URIs must name the application's own appId; an `http(s)` URI's host must be a verified
    /// domain of the tenant or a subdomain of one (api-reference/v1.0/resources/application.md: identifierUris; HostNameNotOnVerifiedDomain);
    /// every URI is unique in the tenant.
    func checkIdentifierURIs(_ uris: [String], appId: String, excluding id: String?) throws(GraphFailure) {
        for uri in uris {
            let lowered = uri.lowercased()
            if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                let host = URL(string: uri)?.host?.lowercased() ?? ""
                let verified = directory.ids(ofType: "domain").filter { directory.object($0)?.properties["isVerified"]?.boolValue == true }
                guard !host.isEmpty, verified.contains(where: { host == $0 || host.hasSuffix("." + $0) }) else {
                    throw GraphFailure.badRequest(
                        "Values of identifierUris property must use a verified domain of the organization or its subdomain: '\(uri)'.",
                        code: "HostNameNotOnVerifiedDomain")
                }
            }
            if uri.lowercased().hasPrefix("api://") {
                let rest = String(uri.dropFirst(6))
                let guid = String(rest.split(separator: "/").first ?? "")
                if UUID(uuidString: guid) != nil, guid.lowercased() != appId.lowercased() {
                    throw GraphFailure.badRequest(
                        "Values of identifierUris property must use a verified domain of the organization or its subdomain: '\(uri)'.",
                        code: "HostNameNotOnVerifiedDomain")
                }
            }
            for other in directory.ids(ofType: "application") where other != id {
                if directory.object(other)?.properties["identifierUris"]?.stringArray?.contains(where: {
                    $0.caseInsensitiveCompare(uri) == .orderedSame
                }) == true {
                    throw GraphFailure.badRequest("Another object with the same value for property identifierUris already exists.")
                }
            }
        }
    }

    func addPassword(_ id: String, _ body: JSONObject) throws -> JSONObject {
        var app = try get(id, type: "application")
        let request = body["passwordCredential"]?.objectValue ?? [:]
        var secretBytes = [UInt8](repeating: 0, count: 30)
        for index in secretBytes.indices { secretBytes[index] = UInt8.random(in: 0...255) }
        let secret = Data(secretBytes).base64EncodedString().replacingOccurrences(of: "/", with: "~").replacingOccurrences(
            of: "+", with: ".")
        let start = now()
        let credential: JSONObject = [
            "keyId": .string(newID()), "displayName": request["displayName"] ?? .null, "hint": .string(String(secret.prefix(3))),
            "startDateTime": .string(timestamp.string(from: start)),
            "endDateTime": request["endDateTime"] ?? .string(timestamp.string(from: start.addingTimeInterval(2 * 365 * 86_400))),
            "customKeyIdentifier": .null,
        ]
        app["passwordCredentials"] = .array((app["passwordCredentials"]?.arrayValue ?? []) + [.object(credential)])
        try directory.transaction { try directory.put(id, type: "application", properties: app) }
        var answer = credential
        answer["secretText"] = .string(secret)
        return answer
    }

    func addFederatedCredential(_ id: String, _ body: JSONObject) throws -> JSONObject {
        // v1.0 has no claimsMatchingExpression (a beta property): the v1.0 CSDL refuses it like any unknown property
        // (api-reference/v1.0/resources/federatedidentitycredential.md, api-reference/v1.0/api/application-post-federatedidentitycredentials.md).
        try GraphSchema.v1.validate(body, as: "federatedIdentityCredential")
        try GraphSchema.v1.validateEnums(body, as: "federatedIdentityCredential")
        try require(body, ["name", "issuer", "subject", "audiences"], type: "federatedIdentityCredential")
        let name = body["name"]!.stringValue ?? ""
        if directory.targets(of: id, "federatedIdentityCredentials").contains(where: {
            directory.object($0)?.properties["name"]?.stringValue == name
        }) {
            throw GraphFailure(
                status: 409, code: "Request_MultipleObjectsWithSameKeyValue",
                message: "FederatedIdentityCredential with name \(name) already exists.")
        }
        var credential = body
        credential["id"] = .string(newID())
        let stored = try insert(credential, type: "federatedIdentityCredential")
        try directory.transaction {
            try directory.addLink(id, "federatedIdentityCredentials", stored["id"]!.stringValue!)
            try directory.touch(id)
        }
        return stored
    }

    func createServicePrincipal(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["appId"], type: "servicePrincipal")
        let appId = body["appId"]!.stringValue ?? ""
        if directory.lookup("servicePrincipal", "appId", appId) != nil {
            throw GraphFailure(
                status: 409, code: "Request_MultipleObjectsWithSameKeyValue",
                message:
                    "The service principal cannot be created, updated, or restored because the service principal name \(appId) is already in use."
            )
        }
        var principal = body.filter { !$0.key.hasSuffix("@odata.bind") }
        if let appObject = directory.lookup("application", "appId", appId), let app = visible(appObject)?.properties {
            principal["displayName"] = body["displayName"] ?? app["displayName"] ?? .null
            principal["appRoles"] = app["appRoles"] ?? []
            principal["oauth2PermissionScopes"] = app["api"]?["oauth2PermissionScopes"] ?? []
            principal["servicePrincipalNames"] = .array([.string(appId)] + (app["identifierUris"]?.arrayValue ?? []))
            principal["appOwnerOrganizationId"] = .string(tenantID)
        } else if let known = BuiltInDirectory.multiTenantApps[appId] {
            principal["displayName"] = .string(known)
            principal["appOwnerOrganizationId"] = .string(BuiltInDirectory.microsoftTenant)
        } else {
            throw GraphFailure.badRequest(
                "The appId '\(appId)' of the service principal does not reference a valid application object.",
                code: "NoBackingApplicationObject")
        }
        principal["id"] = .string(newID())
        principal["servicePrincipalType"] = body["servicePrincipalType"] ?? "Application"
        principal["accountEnabled"] = body["accountEnabled"] ?? true
        principal["createdDateTime"] = .string(nowStamp())
        return try insert(principal, type: "servicePrincipal")
    }

    func assignAppRole(resource: String, _ body: JSONObject) throws -> JSONObject {
        try require(body, ["principalId", "resourceId", "appRoleId"], type: "appRoleAssignment")
        guard body["resourceId"]?.stringValue == resource else {
            throw GraphFailure.badRequest("The resourceId in the body must be the service principal in the URL.")
        }
        guard let resourceSP = visible(resource) else { throw GraphFailure.notFound(resource) }
        let principalID = body["principalId"]!.stringValue ?? ""
        guard let principal = visible(principalID), ["user", "group", "servicePrincipal"].contains(principal.type) else {
            throw GraphFailure.notFound(principalID)
        }
        let roleID = body["appRoleId"]!.stringValue ?? ""
        let roles = (resourceSP.properties["appRoles"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        guard roleID == "00000000-0000-0000-0000-000000000000" || roles.contains(roleID) else {
            throw GraphFailure.badRequest(
                "Permission being assigned was not found on application '\(resource)'.", code: "Request_BadRequest")
        }
        for existing in directory.targets(of: resource, "appRoleAssignedTo") {
            let other = directory.object(existing)?.properties
            if other?["principalId"]?.stringValue == principalID, other?["appRoleId"]?.stringValue == roleID {
                throw GraphFailure.badRequest("Permission being assigned already exists on the object.", code: "Request_BadRequest")
            }
        }
        let assignment: JSONObject = [
            "id": .string(Data(newID().utf8).base64EncodedString().prefix(43).description), "principalId": .string(principalID),
            "principalType": .string(principal.type.prefix(1).uppercased() + principal.type.dropFirst()),
            "principalDisplayName": principal.properties["displayName"] ?? .null, "resourceId": .string(resource),
            "resourceDisplayName": resourceSP.properties["displayName"] ?? .null, "appRoleId": .string(roleID),
            "createdDateTime": .string(nowStamp()),
        ]
        let id = assignment["id"]!.stringValue!
        try directory.transaction {
            try directory.put(id, type: "appRoleAssignment", properties: assignment)
            try directory.addLink(resource, "appRoleAssignedTo", id)
            try directory.addLink(principalID, "appRoleAssignments", id)
        }
        return assignment
    }

    func createGrant(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["clientId", "consentType", "resourceId"], type: "oAuth2PermissionGrant")
        let consent = body["consentType"]!.stringValue ?? ""
        guard consent == "AllPrincipals" || consent == "Principal" else {
            throw GraphFailure.badRequest("consentType must be AllPrincipals or Principal.")
        }
        for key in ["clientId", "resourceId"] {
            let id = body[key]!.stringValue ?? ""
            guard visible(id)?.type == "servicePrincipal" else { throw GraphFailure.notFound(id) }
        }
        let principal = body["principalId"]?.stringValue
        if consent == "Principal" {
            guard let principal, visible(principal)?.type == "user" else {
                throw GraphFailure.badRequest("principalId must be a user when consentType is Principal.")
            }
        } else if principal != nil {
            throw GraphFailure.badRequest("principalId must be null when consentType is AllPrincipals.")
        }
        for existing in directory.ids(ofType: "oauth2PermissionGrant") {
            let other = directory.object(existing)?.properties
            if other?["clientId"] == body["clientId"], other?["resourceId"] == body["resourceId"],
                other?["consentType"] == body["consentType"],
                other?["principalId"]?.stringValue == principal
            {
                throw GraphFailure(
                    status: 409, code: "Request_MultipleObjectsWithSameKeyValue", message: "Permission entry already exists.")
            }
        }
        var grant = body
        grant["id"] = .string(Data(newID().utf8).base64EncodedString().prefix(43).description)
        grant["principalId"] = principal.map(JSONValue.string) ?? .null
        grant["scope"] = body["scope"] ?? ""
        return try insert(grant, type: "oauth2PermissionGrant")
    }

    // MARK: Roles

    func createRoleDefinition(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName", "rolePermissions", "isEnabled"], type: "unifiedRoleDefinition")
        let name = body["displayName"]!.stringValue ?? ""
        if directory.ids(ofType: "unifiedRoleDefinition").contains(where: {
            directory.object($0)?.properties["displayName"]?.stringValue?.caseInsensitiveCompare(name) == .orderedSame
        }) {
            throw GraphFailure.badRequest("A role definition with the display name '\(name)' already exists.", code: "Request_BadRequest")
        }
        var role = body
        let id = newID()
        role["id"] = .string(id)
        role["templateId"] = .string(id)
        role["isBuiltIn"] = false
        return try insert(role, type: "unifiedRoleDefinition")
    }

    func createRoleAssignment(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["roleDefinitionId", "principalId"], type: "unifiedRoleAssignment")
        let roleID = body["roleDefinitionId"]!.stringValue ?? ""
        guard directory.object(roleID)?.type == "unifiedRoleDefinition" else {
            throw GraphFailure.badRequest("The role definition '\(roleID)' does not exist.", code: "Request_ResourceNotFound")
        }
        let principalID = body["principalId"]!.stringValue ?? ""
        guard let principal = visible(principalID), ["user", "group", "servicePrincipal"].contains(principal.type) else {
            throw GraphFailure.notFound(principalID)
        }
        if principal.type == "group", principal.properties["isAssignableToRole"]?.boolValue != true {
            throw GraphFailure.badRequest("Only groups with isAssignableToRole set to true can be assigned directory roles.")
        }
        let scope = body["directoryScopeId"]?.stringValue ?? "/"
        if scope != "/" {
            let parts = scope.split(separator: "/").map(String.init)
            let target = parts.last ?? ""
            let expected = parts.count == 2 && parts[0] == "administrativeUnits" ? "administrativeUnit" : "application"
            guard visible(target)?.type == expected || (expected == "application" && visible(target)?.type == "servicePrincipal") else {
                throw GraphFailure.badRequest("The directory scope '\(scope)' does not exist.", code: "Request_BadRequest")
            }
        }
        for existing in directory.ids(ofType: "unifiedRoleAssignment") {
            let other = directory.object(existing)?.properties
            if other?["roleDefinitionId"]?.stringValue == roleID, other?["principalId"]?.stringValue == principalID,
                (other?["directoryScopeId"]?.stringValue ?? "/") == scope
            {
                throw GraphFailure.badRequest(
                    "A conflicting object with one or more of the specified property values is present in the directory.",
                    code: "Request_BadRequest")
            }
        }
        var assignment = body
        assignment["id"] = .string(Data(newID().utf8).base64EncodedString().prefix(43).description)
        assignment["directoryScopeId"] = .string(scope)
        return try insert(assignment, type: "unifiedRoleAssignment")
    }

    // MARK: Conditional Access

    func createNamedLocation(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["@odata.type", "displayName"], type: "namedLocation")
        try checkNamedLocation(body)
        var location = body
        location["id"] = .string(newID())
        location["createdDateTime"] = .string(nowStamp())
        location["modifiedDateTime"] = location["createdDateTime"]
        return try insert(location, type: "namedLocation")
    }

    func checkNamedLocation(_ body: JSONObject) throws(GraphFailure) {
        switch body["@odata.type"]?.stringValue {
        case "#microsoft.graph.ipNamedLocation":
            guard body["ipRanges"]?.arrayValue?.isEmpty == false else {
                throw GraphFailure.badRequest("An IP named location needs at least one ipRange.")
            }
        case "#microsoft.graph.countryNamedLocation":
            guard body["countriesAndRegions"]?.arrayValue?.isEmpty == false else {
                throw GraphFailure.badRequest("A country named location needs at least one country or region.")
            }
        default:
            throw GraphFailure.badRequest("@odata.type must be #microsoft.graph.ipNamedLocation or #microsoft.graph.countryNamedLocation.")
        }
    }

    func createPolicy(_ body: JSONObject) throws -> JSONObject {
        try checkConditionalAccessAllowed(creating: true)
        try require(body, ["displayName", "state", "conditions"], type: "conditionalAccessPolicy")
        try checkPolicy(body)
        var policy = body
        policy["id"] = .string(newID())
        policy["createdDateTime"] = .string(nowStamp())
        policy["modifiedDateTime"] = .null
        return try insert(policy, type: "conditionalAccessPolicy")
    }

    /// Every reference of a policy must resolve: users, groups, roles (template ids), apps (appIds) and locations.
    func checkPolicy(_ policy: JSONObject) throws(GraphFailure) {
        let states: Set<String> = ["enabled", "disabled", "enabledForReportingButNotEnforced"]
        guard let state = policy["state"]?.stringValue, states.contains(state) else {
            throw GraphFailure.badRequest("state must be one of enabled, disabled, enabledForReportingButNotEnforced.")
        }
        guard policy["grantControls"].map({ !$0.isNull }) == true || policy["sessionControls"].map({ !$0.isNull }) == true else {
            throw GraphFailure.badRequest("A policy needs grantControls or sessionControls.")
        }
        let conditions = policy["conditions"] ?? .null
        func check(_ path: String, _ values: [String]?, keywords: Set<String>, valid: (String) -> Bool) throws(GraphFailure) {
            for value in values ?? [] where !keywords.contains(value) && !valid(value) {
                throw GraphFailure.badRequest("Invalid \(path): '\(value)' does not reference an existing object.", code: "BadRequest")
            }
        }
        let users = conditions["users"]
        for key in ["includeUsers", "excludeUsers"] {
            try check("conditions.users.\(key)", users?[key]?.stringArray, keywords: Self.conditionalAccessUserKeywords) {
                visible($0)?.type == "user"
            }
        }
        for key in ["includeGroups", "excludeGroups"] {
            try check("conditions.users.\(key)", users?[key]?.stringArray, keywords: []) { visible($0)?.type == "group" }
        }
        for key in ["includeRoles", "excludeRoles"] {
            try check("conditions.users.\(key)", users?[key]?.stringArray, keywords: []) {
                directory.object($0)?.type == "unifiedRoleDefinition"
            }
        }
        let apps = conditions["applications"]
        for key in ["includeApplications", "excludeApplications"] {
            try check("conditions.applications.\(key)", apps?[key]?.stringArray, keywords: Self.conditionalAccessAppKeywords) {
                directory.lookup("servicePrincipal", "appId", $0) != nil || BuiltInDirectory.multiTenantApps[$0] != nil
            }
        }
        // grantControls.authenticationStrength references a policy by id (api-reference/v1.0/resources/authenticationstrengthpolicy.md).
        if let strength = policy["grantControls"]?["authenticationStrength"], !strength.isNull {
            let id = strength["id"]?.stringValue ?? ""
            guard directory.object(id)?.type == "authenticationStrengthPolicy" else {
                throw GraphFailure.badRequest(
                    "Invalid grantControls.authenticationStrength: '\(id)' does not reference an existing authentication strength.",
                    code: "BadRequest")
            }
        }
        let locations = conditions["locations"]
        for key in ["includeLocations", "excludeLocations"] {
            try check("conditions.locations.\(key)", locations?[key]?.stringArray, keywords: Self.conditionalAccessLocationKeywords) {
                directory.object($0)?.type == "namedLocation"
            }
        }
    }

    /// `POST /policies/authenticationStrengthPolicies` (api-reference/v1.0/api/authenticationstrengthroot-post-policies.md): a custom strength.
    func createStrengthPolicy(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName", "allowedCombinations"], type: "authenticationStrengthPolicy")
        guard body["allowedCombinations"]?.arrayValue?.isEmpty == false else {
            throw GraphFailure.badRequest("allowedCombinations must name at least one combination.", code: "BadRequest")
        }
        let name = body["displayName"]?.stringValue ?? ""
        if directory.ids(ofType: "authenticationStrengthPolicy").contains(where: {
            directory.object($0)?.properties["displayName"]?.stringValue?.caseInsensitiveCompare(name) == .orderedSame
        }) {
            throw GraphFailure.badRequest("An authentication strength with the display name '\(name)' already exists.", code: "BadRequest")
        }
        var policy = body
        let stamp = JSONValue.string(nowStamp())
        policy["id"] = .string(newID())
        policy["policyType"] = "custom"
        policy["requirementsSatisfied"] = "mfa"
        policy["createdDateTime"] = stamp
        policy["modifiedDateTime"] = stamp
        return try insert(policy, type: "authenticationStrengthPolicy")
    }

    // MARK: Domains

    func createDomain(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["id"], type: "domain")
        let name = body["id"]!.stringValue?.lowercased() ?? ""
        guard name.contains("."), !name.hasSuffix(".onmicrosoft.com") else {
            throw GraphFailure.badRequest("The domain name '\(name)' is not valid.")
        }
        guard directory.object(name) == nil else {
            throw GraphFailure(
                status: 409, code: "Request_MultipleObjectsWithSameKeyValue",
                message: "Another object with the same value for property id already exists.")
        }
        let domain: JSONObject = [
            "id": .string(name), "isVerified": false, "isDefault": false, "isInitial": false,
            "isRoot": .bool(parentDomain(of: name) == nil),
            "authenticationType": body["authenticationType"] ?? "Managed", "supportedServices": [],
        ]
        try directory.setSetting("added:\(name)", String(now().timeIntervalSince1970))
        return try insert(domain, type: "domain")
    }

    /// Whether the domain's TXT record is in DNS: published through the admin API, or by the profile's simulated operator.
    func isPublished(_ name: String) -> Bool {
        if directory.setting("dns:\(name)") == "published" { return true }
        guard let delay = profile.dnsRecordsPublishedAfterSeconds, let added = directory.setting("added:\(name)").flatMap(Double.init)
        else { return false }
        return now().timeIntervalSince1970 >= added + delay
    }

    func parentDomain(of name: String) -> String? {
        var parts = name.split(separator: ".")
        while parts.count > 2 {
            parts.removeFirst()
            let candidate = parts.joined(separator: ".")
            if directory.object(candidate)?.type == "domain" { return candidate }
        }
        return nil
    }

    func verificationRecords(_ name: String) -> [JSONObject] {
        let code = Data(name.utf8).reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
        return [
            [
                "@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": .string("aceff52c-06a5-447f-ac5f-256ad243cc5c"),
                "isOptional": false,
                "label": .string(name), "recordType": "Txt", "supportedService": "Email", "ttl": 3600,
                "text": .string(String(format: "MS=ms%08x", code)),
            ]
        ]
    }

    /// Verification succeeds once the TXT record is published (through the admin API), or when the root domain is verified.
    func verifyDomain(_ name: String) throws -> JSONObject {
        var domain = try get(name, type: "domain")
        if domain["isVerified"]?.boolValue == true { return domain }
        // A domain still verified in another tenant never verifies here (api-reference/v1.0/api/domain-verify.md is silent on the error: hostile choice).
        if isHeld(name) {
            throw GraphFailure.badRequest(
                "Domain verification failed: the domain \(name) is already verified in another tenant.", code: "Request_BadRequest")
        }
        let rootVerified = parentDomain(of: name).flatMap { directory.object($0)?.properties["isVerified"]?.boolValue } == true
        guard isPublished(name) || rootVerified else {
            throw GraphFailure.badRequest(
                "Domain verification failed. The TXT record \(verificationRecords(name)[0]["text"]!.stringValue!) was not found in the DNS zone of \(name).",
                code: "Request_BadRequest")
        }
        domain["isVerified"] = true
        domain["supportedServices"] = ["Email", "OfficeCommunicationsOnline"]
        try directory.transaction { try directory.put(name, type: "domain", properties: domain) }
        return domain
    }

    // MARK: Updates and deletes

    func update(_ type: String, id: String, _ body: JSONObject) throws {
        try GraphSchema.v1.validate(body, as: type)
        try GraphSchema.v1.validateEnums(body, as: type)
        try checkReadOnly(body, type: type, except: nil)
        var object = try get(id, type: type)
        switch type {
        case "user":
            if let upn = body["userPrincipalName"]?.stringValue {
                _ = try checkUPN(upn)
                if let other = directory.lookup("user", "userPrincipalName", upn), other != id {
                    throw GraphFailure.alreadyExists("userPrincipalName")
                }
            }
        case "group":
            if let name = body["uniqueName"]?.stringValue, let other = directory.lookup("group", "uniqueName", name), other != id {
                throw GraphFailure.alreadyExists("uniqueName")
            }
        case "application":
            if body["passwordCredentials"]?.arrayValue?.isEmpty == false {
                throw GraphFailure.badRequest("Updating the passwordCredentials property is not supported; use addPassword.")
            }
            if let uris = body["identifierUris"]?.stringArray {
                try checkIdentifierURIs(uris, appId: object["appId"]?.stringValue ?? "", excluding: id)
            }
        case "namedLocation":
            var merged = object
            for (key, value) in body { merged[key] = value }
            try checkNamedLocation(merged)
        case "conditionalAccessPolicy":
            try checkConditionalAccessAllowed(creating: false)
            var merged = object
            for (key, value) in body { merged[key] = value }
            try checkPolicy(merged)
        default: break
        }
        let members = body["members@odata.bind"]?.arrayValue, owners = body["owners@odata.bind"]?.arrayValue
        for (key, value) in body where !key.hasSuffix("@odata.bind") && key != "passwordProfile" { object[key] = value }
        if ["namedLocation", "conditionalAccessPolicy", "authenticationStrengthPolicy"].contains(type) {
            object["modifiedDateTime"] = .string(nowStamp())
        }
        // Every check first, then one transaction: the binds and the properties land together or not at all.
        let memberIDs = try members.map { try bindTargets(id, type: type, relation: "members", references: $0) } ?? []
        let ownerIDs = try owners.map { try bindTargets(id, type: type, relation: "owners", references: $0) } ?? []
        try directory.transaction {
            for target in memberIDs { try directory.addLink(id, "members", target) }
            for target in ownerIDs { try directory.addLink(id, "owners", target) }
            try directory.put(id, type: type, properties: object)
        }
    }

    func deleteObject(_ id: String, type: String, properties: JSONObject) throws {
        if type == "domain" {
            if properties["isInitial"]?.boolValue == true { throw GraphFailure.badRequest("The initial domain cannot be deleted.") }
            let suffix = "@" + id
            if directory.ids(ofType: "user").contains(where: {
                directory.object($0)?.properties["userPrincipalName"]?.stringValue?.lowercased().hasSuffix(suffix) == true
            }) {
                throw GraphFailure.badRequest("The domain \(id) is still referenced by users.")
            }
        }
        if type == "authenticationStrengthPolicy", properties["policyType"]?.stringValue == "builtIn" {
            throw GraphFailure.badRequest("Built-in authentication strengths cannot be deleted.", code: "BadRequest")
        }
        if type == "unifiedRoleDefinition", properties["isBuiltIn"]?.boolValue == true {
            throw GraphFailure.badRequest("Built-in role definitions cannot be deleted.")
        }
        try delete(ids: [id])
    }

    // MARK: Recycle bin

    func recycleBin(_ request: FakeRequest, rest: [String]) throws -> HTTPResponse {
        // Objects deleted more than 30 days ago (tenant time) are gone for good.
        let cutoff = now().timeIntervalSince1970 - Self.recycleBinDays * 86_400
        let expired = directory.deleted.filter { $0.value.deletedAt < cutoff }.map(\.key)
        if !expired.isEmpty { try directory.transaction { for id in expired { try directory.purge(id) } } }

        switch (request.method, rest.count) {
        case ("GET", 1) where Self.castType(rest[0]) != nil, ("GET", 2) where Self.castType(rest[0]) != nil && rest[1] == "$count":
            // Both spellings of the cast: `microsoft.graph.user` (api-reference/v1.0/api/directory-deleteditems-list.md) and `graph.user` (Microsoft's SDKs).
            let type = Self.castType(rest[0])!
            if rest.count == 2 { return try countSegment(request, directory.deleted.values.filter { $0.type == type }.count) }
            let items = directory.deleted.filter { $0.value.type == type }.sorted { $0.value.deletedAt < $1.value.deletedAt }
                .map { withType($0.value.properties, type) }
            return try list(request, items: { items }, type: nil)
        case ("GET", 1):
            guard let entry = directory.deleted[rest[0]] else { throw GraphFailure.notFound(rest[0]) }
            return try json(200, withType(entry.properties, entry.type))
        case ("POST", 2) where rest[1] == "restore":
            guard let entry = directory.deleted[rest[0]] else { throw GraphFailure.notFound(rest[0]) }
            for property in FakeDirectory.uniqueProperties[entry.type] ?? [] {
                if let value = entry.properties[property]?.stringValue, directory.lookup(entry.type, property, value) != nil {
                    throw GraphFailure.badRequest(
                        "The object cannot be restored: another object with the same value for property \(property) already exists.",
                        code: "Request_BadRequest")
                }
            }
            var restored: FakeDirectory.Entry?
            try directory.transaction { restored = try directory.restore(rest[0]) }
            return try json(200, withType(restored?.properties ?? [:], entry.type))
        case ("DELETE", 1):
            guard directory.deleted[rest[0]] != nil else { throw GraphFailure.notFound(rest[0]) }
            try directory.transaction { try directory.purge(rest[0]) }
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 400, code: "BadRequest", message: "Unsupported request \(request.method) \(request.path).")
        }
    }
}
