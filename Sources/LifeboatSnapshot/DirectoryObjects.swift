import LifeboatJSON

/// A directory object from a snapshot: typed fields for what Lifeboat needs, and every
/// property exactly as Graph returned it (unknown ones included) in ``raw``.
package protocol DirectoryObject: Sendable, Hashable {
    static var objectType: ObjectType { get }
    /// The object's id in the source tenant.
    var id: String { get }
    /// The display name, or the id when the object has none.
    var displayName: String { get }
    /// Every property as captured, round-tripped unchanged, kept as its JSON (see ``RawJSONObject``).
    var raw: RawJSONObject { get }
    /// Reads and checks the typed fields of `properties`, which `raw` holds as JSON; throws a ``PropertyProblem``
    /// naming the bad field.
    init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem)
}

extension DirectoryObject {
    /// An object made from its properties (imports, captures and tests): they are kept as compact JSON.
    package init(properties: JSONObject) throws(PropertyProblem) {
        try self.init(properties: properties, raw: RawJSONObject(properties))
    }

    /// Every property as captured, parsed from ``raw`` on each read: read it once into a local, or read single
    /// properties with ``subscript(property:)``.
    package var properties: JSONObject { raw.object }

    /// One property as captured, parsed without the others.
    package subscript(property name: String) -> JSONValue? { raw[name] }

    package var displayName: String { raw["displayName"]?.stringValue ?? id }
}

/// A required property that is missing or has the wrong JSON type.
package struct PropertyProblem: Error, Sendable, Equatable {
    package var field: String
    package var problem: String
}

/// A reference to another directory object, as Graph returns it in `members`, `owners` or `manager`.
package struct DirectoryReference: Sendable, Hashable {
    /// The referenced object's id in the source tenant.
    package var id: String
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, … when Graph said.
    package var odataType: String?

    package init(id: String, odataType: String? = nil) {
        self.id = id
        self.odataType = odataType
    }

    /// The short type name: `user`, `group`, `servicePrincipal`, `device`, `orgContact`, or `directoryObject`.
    package var typeName: String {
        guard let odataType else { return "directoryObject" }
        return String(odataType.split(separator: ".").last ?? Substring(odataType))
    }

    init(json: JSONValue, field: String) throws(PropertyProblem) {
        guard let id = json["id"]?.stringValue, !id.isEmpty else {
            throw PropertyProblem(field: field, problem: "a reference has no string \"id\"")
        }
        self.init(id: id, odataType: json["@odata.type"]?.stringValue.map(Self.shared))
    }

    /// The usual types as string literals, which need no storage of their own: a 100,000-user snapshot has about
    /// 400,000 member references, and a heap copy of `#microsoft.graph.user` in each took 19 MB.
    private static func shared(_ odataType: String) -> String {
        switch odataType {
        case "#microsoft.graph.user": "#microsoft.graph.user"
        case "#microsoft.graph.group": "#microsoft.graph.group"
        case "#microsoft.graph.servicePrincipal": "#microsoft.graph.servicePrincipal"
        case "#microsoft.graph.device": "#microsoft.graph.device"
        case "#microsoft.graph.orgContact": "#microsoft.graph.orgContact"
        default: odataType
        }
    }
}

/// Typed reads of JSON properties that name the field when they fail.
struct PropertyReader {
    let properties: JSONObject

    func string(_ name: String) throws(PropertyProblem) -> String {
        guard let value = properties[name] else { throw PropertyProblem(field: name, problem: "missing") }
        guard let string = value.stringValue, !string.isEmpty else {
            throw PropertyProblem(field: name, problem: "must be a non-empty string")
        }
        return string
    }

    func optionalString(_ name: String) throws(PropertyProblem) -> String? {
        guard let value = properties[name], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw PropertyProblem(field: name, problem: "must be a string") }
        return string
    }

    func bool(_ name: String, default fallback: Bool? = nil) throws(PropertyProblem) -> Bool {
        guard let value = properties[name], !value.isNull else {
            if let fallback { return fallback }
            throw PropertyProblem(field: name, problem: "missing")
        }
        guard let bool = value.boolValue else { throw PropertyProblem(field: name, problem: "must be true or false") }
        return bool
    }

    func strings(_ name: String) throws(PropertyProblem) -> [String] {
        guard let value = properties[name], !value.isNull else { return [] }
        guard let strings = value.stringArray else { throw PropertyProblem(field: name, problem: "must be an array of strings") }
        return strings
    }

    func references(_ name: String) throws(PropertyProblem) -> [DirectoryReference] {
        guard let value = properties[name], !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw PropertyProblem(field: name, problem: "must be an array of references") }
        var references: [DirectoryReference] = []
        references.reserveCapacity(array.count)
        for (index, element) in array.enumerated() {
            references.append(try DirectoryReference(json: element, field: "\(name)[\(index)]"))
        }
        return references
    }

    func reference(_ name: String) throws(PropertyProblem) -> DirectoryReference? {
        guard let value = properties[name], !value.isNull else { return nil }
        return try DirectoryReference(json: value, field: name)
    }
}

/// The tenant's organization object.
package struct Organization: DirectoryObject {
    package static let objectType = ObjectType.organization
    package let id: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        id = try PropertyReader(properties: properties).string("id")
        self.raw = raw
    }
}

/// A domain name registered in the tenant.
package struct Domain: DirectoryObject {
    package static let objectType = ObjectType.domain
    /// The domain name, which is its id in Graph.
    package let id: String
    package let isVerified: Bool
    package let isInitial: Bool
    package let isDefault: Bool
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id").lowercased()
        isVerified = try read.bool("isVerified", default: false)
        isInitial = try read.bool("isInitial", default: false)
        isDefault = try read.bool("isDefault", default: false)
        self.raw = raw
    }
}

/// A user: a member account, a guest or a synced account.
package struct User: DirectoryObject {
    package static let objectType = ObjectType.user
    package let id: String
    package let userPrincipalName: String
    package let accountEnabled: Bool
    /// `Member` or `Guest`.
    package let userType: String
    package let mail: String?
    package let mailNickname: String?
    /// `true` for accounts synced from on-premises Active Directory: restore them at the source.
    package let onPremisesSyncEnabled: Bool
    /// The user's manager, when the snapshot captured it (`$expand=manager`).
    package private(set) var manager: DirectoryReference?
    package let displayName: String
    package let raw: RawJSONObject

    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        userPrincipalName = try read.string("userPrincipalName")
        displayName = try read.string("displayName")
        accountEnabled = try read.bool("accountEnabled", default: true)
        mail = try read.optionalString("mail")
        mailNickname = try read.optionalString("mailNickname")
        onPremisesSyncEnabled = try read.bool("onPremisesSyncEnabled", default: false)
        manager = try read.reference("manager")
        let upn = userPrincipalName
        userType = try read.optionalString("userType") ?? (upn.contains("#EXT#") ? "Guest" : "Member")
        self.raw = raw
    }

    /// `true` for B2B guests, who come back through an invitation rather than a create.
    package var isGuest: Bool { userType.caseInsensitiveCompare("Guest") == .orderedSame }

    /// Replaces the manager's id with an equal string that shares storage (see ``Snapshot``'s loading).
    mutating func shareReferencedIDs(_ shared: (String) -> String) {
        if let manager { self.manager?.id = shared(manager.id) }
    }

    /// The part of the UPN after `@`, lower-cased.
    package var upnDomain: String {
        userPrincipalName.split(separator: "@").last.map { $0.lowercased() } ?? ""
    }
}

/// A group: security, Microsoft 365, dynamic, role-assignable or mail-enabled security.
package struct Group: DirectoryObject {
    package static let objectType = ObjectType.group
    package let id: String
    package let mailNickname: String
    package let mailEnabled: Bool
    package let securityEnabled: Bool
    package let groupTypes: [String]
    package let isAssignableToRole: Bool
    package let uniqueName: String?
    /// Direct members as captured (`$expand=members`).
    package private(set) var members: [DirectoryReference]
    /// Owners as captured (`$expand=owners`).
    package private(set) var owners: [DirectoryReference]
    package let displayName: String
    package let raw: RawJSONObject

    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        displayName = try read.string("displayName")
        mailNickname = try read.string("mailNickname")
        mailEnabled = try read.bool("mailEnabled")
        securityEnabled = try read.bool("securityEnabled")
        groupTypes = try read.strings("groupTypes")
        isAssignableToRole = try read.bool("isAssignableToRole", default: false)
        uniqueName = try read.optionalString("uniqueName")
        members = try read.references("members")
        owners = try read.references("owners")
        self.raw = raw
        if isDynamic { _ = try read.string("membershipRule") }
    }

    /// A Microsoft 365 group (`groupTypes` contains `Unified`).
    package var isUnified: Bool { groupTypes.contains { $0.caseInsensitiveCompare("Unified") == .orderedSame } }
    /// Membership computed from a rule: its members are never written.
    package var isDynamic: Bool { groupTypes.contains { $0.caseInsensitiveCompare("DynamicMembership") == .orderedSame } }

    /// Replaces the references' ids with equal strings that share storage (see ``Snapshot``'s loading).
    mutating func shareReferencedIDs(_ shared: (String) -> String) {
        for index in members.indices { members[index].id = shared(members[index].id) }
        for index in owners.indices { owners[index].id = shared(owners[index].id) }
    }
}

/// An administrative unit and its members.
package struct AdministrativeUnit: DirectoryObject {
    package static let objectType = ObjectType.administrativeUnit
    package let id: String
    package private(set) var members: [DirectoryReference]
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        members = try read.references("members")
        self.raw = raw
    }

    /// Replaces the members' ids with equal strings that share storage (see ``Snapshot``'s loading).
    mutating func shareReferencedIDs(_ shared: (String) -> String) {
        for index in members.indices { members[index].id = shared(members[index].id) }
    }
}

/// An application registration.
package struct Application: DirectoryObject {
    package static let objectType = ObjectType.application
    package let id: String
    package let appId: String
    package let uniqueName: String?
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        appId = try read.string("appId")
        _ = try read.string("displayName")
        uniqueName = try read.optionalString("uniqueName")
        self.raw = raw
    }
}

/// A service principal (enterprise application), including Microsoft's first-party ones.
package struct ServicePrincipal: DirectoryObject {
    package static let objectType = ObjectType.servicePrincipal
    package let id: String
    package let appId: String
    package let appOwnerOrganizationId: String?
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        appId = try read.string("appId")
        appOwnerOrganizationId = try read.optionalString("appOwnerOrganizationId")
        self.raw = raw
    }
}

/// An app role granted to a user, group or service principal on a resource service principal.
package struct AppRoleAssignment: DirectoryObject {
    package static let objectType = ObjectType.appRoleAssignment
    package let id: String
    package let principalId: String
    package let resourceId: String
    package let appRoleId: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        principalId = try read.string("principalId")
        resourceId = try read.string("resourceId")
        appRoleId = try read.string("appRoleId")
        self.raw = raw
    }
}

/// A delegated-permission grant (admin or per-user consent).
package struct OAuth2PermissionGrant: DirectoryObject {
    package static let objectType = ObjectType.oauth2PermissionGrant
    package let id: String
    package let clientId: String
    package let resourceId: String
    /// `AllPrincipals` or `Principal`.
    package let consentType: String
    package let principalId: String?
    package let scope: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        clientId = try read.string("clientId")
        resourceId = try read.string("resourceId")
        consentType = try read.string("consentType")
        principalId = try read.optionalString("principalId")
        scope = try read.optionalString("scope") ?? ""
        self.raw = raw
    }
}

/// A directory role definition, built-in or custom.
package struct RoleDefinition: DirectoryObject {
    package static let objectType = ObjectType.roleDefinition
    package let id: String
    package let isBuiltIn: Bool
    /// Stable across tenants for built-in roles.
    package let templateId: String?
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        isBuiltIn = try read.bool("isBuiltIn", default: false)
        templateId = try read.optionalString("templateId")
        self.raw = raw
    }
}

/// A directory role assignment with its scope.
package struct RoleAssignment: DirectoryObject {
    package static let objectType = ObjectType.roleAssignment
    package let id: String
    package let roleDefinitionId: String
    package let principalId: String
    /// `/`, `/administrativeUnits/{id}` or `/{applicationObjectId}`.
    package let directoryScopeId: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        roleDefinitionId = try read.string("roleDefinitionId")
        principalId = try read.string("principalId")
        directoryScopeId = try read.optionalString("directoryScopeId") ?? "/"
        self.raw = raw
    }
}

/// A Conditional Access named location (IP ranges or countries).
package struct NamedLocation: DirectoryObject {
    package static let objectType = ObjectType.namedLocation
    package let id: String
    /// `#microsoft.graph.ipNamedLocation` or `#microsoft.graph.countryNamedLocation`.
    package let odataType: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        odataType = try read.string("@odata.type")
        self.raw = raw
    }
}

/// A Conditional Access policy.
package struct ConditionalAccessPolicy: DirectoryObject {
    package static let objectType = ObjectType.conditionalAccessPolicy
    package let id: String
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    package let state: String
    package let raw: RawJSONObject
    package init(properties: JSONObject, raw: RawJSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        state = try read.string("state")
        guard properties["conditions"]?.objectValue != nil else {
            throw PropertyProblem(field: "conditions", problem: "missing")
        }
        self.raw = raw
    }
}
