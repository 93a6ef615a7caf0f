import LifeboatJSON

/// A directory object from a snapshot: typed fields for what Lifeboat needs, and every
/// property exactly as Graph returned it (unknown ones included) in ``properties``.
public protocol DirectoryObject: Sendable, Hashable {
    static var objectType: ObjectType { get }
    /// The object's id in the source tenant.
    var id: String { get }
    /// Every property as captured, round-tripped unchanged.
    var properties: JSONObject { get }
    /// Reads and checks the typed fields; throws a ``PropertyProblem`` naming the bad field.
    init(properties: JSONObject) throws(PropertyProblem)
}

extension DirectoryObject {
    /// The display name, or the id when the object has none.
    public var displayName: String { properties["displayName"]?.stringValue ?? id }
}

/// A required property that is missing or has the wrong JSON type.
public struct PropertyProblem: Error, Sendable, Equatable {
    public var field: String
    public var problem: String
}

/// A reference to another directory object, as Graph returns it in `members`, `owners` or `manager`.
public struct DirectoryReference: Sendable, Hashable {
    /// The referenced object's id in the source tenant.
    public var id: String
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, … when Graph said.
    public var odataType: String?

    public init(id: String, odataType: String? = nil) {
        self.id = id
        self.odataType = odataType
    }

    /// The short type name: `user`, `group`, `servicePrincipal`, `device`, `orgContact`, or `directoryObject`.
    public var typeName: String {
        guard let odataType else { return "directoryObject" }
        return String(odataType.split(separator: ".").last ?? Substring(odataType))
    }

    init(json: JSONValue, field: String) throws(PropertyProblem) {
        guard let id = json["id"]?.stringValue, !id.isEmpty else {
            throw PropertyProblem(field: field, problem: "a reference has no string \"id\"")
        }
        self.init(id: id, odataType: json["@odata.type"]?.stringValue)
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
public struct Organization: DirectoryObject {
    public static let objectType = ObjectType.organization
    public let id: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        id = try PropertyReader(properties: properties).string("id")
        self.properties = properties
    }
}

/// A domain name registered in the tenant.
public struct Domain: DirectoryObject {
    public static let objectType = ObjectType.domain
    /// The domain name, which is its id in Graph.
    public let id: String
    public let isVerified: Bool
    public let isInitial: Bool
    public let isDefault: Bool
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id").lowercased()
        isVerified = try read.bool("isVerified", default: false)
        isInitial = try read.bool("isInitial", default: false)
        isDefault = try read.bool("isDefault", default: false)
        self.properties = properties
    }
}

/// A user: a member account, a guest or a synced account.
public struct User: DirectoryObject {
    public static let objectType = ObjectType.user
    public let id: String
    public let userPrincipalName: String
    public let accountEnabled: Bool
    /// `Member` or `Guest`.
    public let userType: String
    public let mail: String?
    public let mailNickname: String?
    /// `true` for accounts synced from on-premises Active Directory: restore them at the source.
    public let onPremisesSyncEnabled: Bool
    /// The user's manager, when the snapshot captured it (`$expand=manager`).
    public let manager: DirectoryReference?
    public let properties: JSONObject

    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        userPrincipalName = try read.string("userPrincipalName")
        _ = try read.string("displayName")
        accountEnabled = try read.bool("accountEnabled", default: true)
        mail = try read.optionalString("mail")
        mailNickname = try read.optionalString("mailNickname")
        onPremisesSyncEnabled = try read.bool("onPremisesSyncEnabled", default: false)
        manager = try read.reference("manager")
        let upn = userPrincipalName
        userType = try read.optionalString("userType") ?? (upn.contains("#EXT#") ? "Guest" : "Member")
        self.properties = properties
    }

    /// `true` for B2B guests, who come back through an invitation rather than a create.
    public var isGuest: Bool { userType.caseInsensitiveCompare("Guest") == .orderedSame }

    /// The part of the UPN after `@`, lower-cased.
    public var upnDomain: String {
        userPrincipalName.split(separator: "@").last.map { $0.lowercased() } ?? ""
    }
}

/// A group: security, Microsoft 365, dynamic, role-assignable or mail-enabled security.
public struct Group: DirectoryObject {
    public static let objectType = ObjectType.group
    public let id: String
    public let mailNickname: String
    public let mailEnabled: Bool
    public let securityEnabled: Bool
    public let groupTypes: [String]
    public let isAssignableToRole: Bool
    public let uniqueName: String?
    /// Direct members as captured (`$expand=members`).
    public let members: [DirectoryReference]
    /// Owners as captured (`$expand=owners`).
    public let owners: [DirectoryReference]
    public let properties: JSONObject

    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        mailNickname = try read.string("mailNickname")
        mailEnabled = try read.bool("mailEnabled")
        securityEnabled = try read.bool("securityEnabled")
        groupTypes = try read.strings("groupTypes")
        isAssignableToRole = try read.bool("isAssignableToRole", default: false)
        uniqueName = try read.optionalString("uniqueName")
        members = try read.references("members")
        owners = try read.references("owners")
        self.properties = properties
        if isDynamic { _ = try read.string("membershipRule") }
    }

    /// A Microsoft 365 group (`groupTypes` contains `Unified`).
    public var isUnified: Bool { groupTypes.contains { $0.caseInsensitiveCompare("Unified") == .orderedSame } }
    /// Membership computed from a rule: its members are never written.
    public var isDynamic: Bool { groupTypes.contains { $0.caseInsensitiveCompare("DynamicMembership") == .orderedSame } }
}

/// An administrative unit and its members.
public struct AdministrativeUnit: DirectoryObject {
    public static let objectType = ObjectType.administrativeUnit
    public let id: String
    public let members: [DirectoryReference]
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        members = try read.references("members")
        self.properties = properties
    }
}

/// An application registration.
public struct Application: DirectoryObject {
    public static let objectType = ObjectType.application
    public let id: String
    public let appId: String
    public let uniqueName: String?
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        appId = try read.string("appId")
        _ = try read.string("displayName")
        uniqueName = try read.optionalString("uniqueName")
        self.properties = properties
    }
}

/// A service principal (enterprise application), including Microsoft's first-party ones.
public struct ServicePrincipal: DirectoryObject {
    public static let objectType = ObjectType.servicePrincipal
    public let id: String
    public let appId: String
    public let appOwnerOrganizationId: String?
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        appId = try read.string("appId")
        appOwnerOrganizationId = try read.optionalString("appOwnerOrganizationId")
        self.properties = properties
    }
}

/// An app role granted to a user, group or service principal on a resource service principal.
public struct AppRoleAssignment: DirectoryObject {
    public static let objectType = ObjectType.appRoleAssignment
    public let id: String
    public let principalId: String
    public let resourceId: String
    public let appRoleId: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        principalId = try read.string("principalId")
        resourceId = try read.string("resourceId")
        appRoleId = try read.string("appRoleId")
        self.properties = properties
    }
}

/// A delegated-permission grant (admin or per-user consent).
public struct OAuth2PermissionGrant: DirectoryObject {
    public static let objectType = ObjectType.oauth2PermissionGrant
    public let id: String
    public let clientId: String
    public let resourceId: String
    /// `AllPrincipals` or `Principal`.
    public let consentType: String
    public let principalId: String?
    public let scope: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        clientId = try read.string("clientId")
        resourceId = try read.string("resourceId")
        consentType = try read.string("consentType")
        principalId = try read.optionalString("principalId")
        scope = try read.optionalString("scope") ?? ""
        self.properties = properties
    }
}

/// A directory role definition, built-in or custom.
public struct RoleDefinition: DirectoryObject {
    public static let objectType = ObjectType.roleDefinition
    public let id: String
    public let isBuiltIn: Bool
    /// Stable across tenants for built-in roles.
    public let templateId: String?
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        isBuiltIn = try read.bool("isBuiltIn", default: false)
        templateId = try read.optionalString("templateId")
        self.properties = properties
    }
}

/// A directory role assignment with its scope.
public struct RoleAssignment: DirectoryObject {
    public static let objectType = ObjectType.roleAssignment
    public let id: String
    public let roleDefinitionId: String
    public let principalId: String
    /// `/`, `/administrativeUnits/{id}` or `/{applicationObjectId}`.
    public let directoryScopeId: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        roleDefinitionId = try read.string("roleDefinitionId")
        principalId = try read.string("principalId")
        directoryScopeId = try read.optionalString("directoryScopeId") ?? "/"
        self.properties = properties
    }
}

/// A Conditional Access named location (IP ranges or countries).
public struct NamedLocation: DirectoryObject {
    public static let objectType = ObjectType.namedLocation
    public let id: String
    /// `#microsoft.graph.ipNamedLocation` or `#microsoft.graph.countryNamedLocation`.
    public let odataType: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        odataType = try read.string("@odata.type")
        self.properties = properties
    }
}

/// A Conditional Access policy.
public struct ConditionalAccessPolicy: DirectoryObject {
    public static let objectType = ObjectType.conditionalAccessPolicy
    public let id: String
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    public let state: String
    public let properties: JSONObject
    public init(properties: JSONObject) throws(PropertyProblem) {
        let read = PropertyReader(properties: properties)
        id = try read.string("id")
        _ = try read.string("displayName")
        state = try read.string("state")
        guard properties["conditions"]?.objectValue != nil else {
            throw PropertyProblem(field: "conditions", problem: "missing")
        }
        self.properties = properties
    }
}
