import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Reads the tree Microsoft's EntraExporter module writes with `Export-Entra -Path DIR -All`.
///
/// The layout (EntraExporter's export schema): a collection `Path` such as `Users` or
/// `Identity/Conditional/AccessPolicies` holds one folder per object, `<id>/<id>.json`, with the object
/// as Graph returned it. Relationship reads of an object are sub-folders of its folder, again one
/// `<id>/<id>.json` per related object: `Groups/<id>/Members/…`, `Groups/<id>/Owners/…`,
/// `ServicePrincipals/<id>/AppRoleAssignments/…`, `…/AppRoleAssignedTo/…`, `…/Oauth2PermissionGrants/…`,
/// `AdministrativeUnits/<id>/Members/…`, `DirectoryRoles/<id>/Members/…`. A `Path` ending in `.json`
/// (`Organization/Organization.json`) is one file. Folder names are matched case-insensitively
/// (older versions wrote `RoleManagement/directory/roleAssignments`).
struct EntraExporterImporter {
    var input: ImportInput
    var tenant = ImportedTenant()
    /// Ids already added per type, for assignments and grants read from both ends.
    private var seen: [ObjectType: Set<String>] = [:]

    init(root: URL) {
        input = ImportInput(root: root)
    }

    /// A collection folder: where it may be, what it becomes.
    private struct Collection {
        var type: ObjectType
        var paths: [[String]]
    }

    private static let collections: [Collection] = [
        Collection(type: .domain, paths: [["Domains"]]),
        Collection(type: .user, paths: [["Users"]]),
        Collection(type: .group, paths: [["Groups"]]),
        Collection(type: .administrativeUnit, paths: [["AdministrativeUnits"]]),
        Collection(type: .application, paths: [["Applications"]]),
        Collection(type: .servicePrincipal, paths: [["ServicePrincipals"]]),
        Collection(type: .roleDefinition, paths: [["RoleManagement", "Directory", "RoleDefinitions"]]),
        Collection(type: .roleAssignment, paths: [["RoleManagement", "Directory", "RoleAssignments"]]),
        Collection(type: .namedLocation, paths: [["Identity", "Conditional", "NamedLocations"]]),
        Collection(type: .conditionalAccessPolicy, paths: [["Identity", "Conditional", "AccessPolicies"]]),
        // Not in EntraExporter's schema (these come under ServicePrincipals/<id>/…), but accepted at the top level.
        Collection(type: .oauth2PermissionGrant, paths: [["OAuth2PermissionGrants"]]),
        Collection(type: .appRoleAssignment, paths: [["AppRoleAssignments"]]),
    ]

    /// Top-level folders that hold things Lifeboat does not restore; listed as ignored, not as errors.
    private static let handled: Set<String> = [
        "organization", "domains", "users", "groups", "administrativeunits", "applications", "serviceprincipals", "rolemanagement",
        "identity", "directoryroles", "oauth2permissiongrants", "approleassignments",
    ]

    mutating func read() throws(ImportError) -> ImportedTenant {
        guard !input.entries(input.root).isEmpty else {
            throw ImportError(file: input.root.path, problem: "is empty", hint: "pass the folder given to Export-Entra -Path")
        }
        try readOrganization()
        var sawMembersFolder = false
        for collection in Self.collections {
            guard let folder = input.find(anyOf: collection.paths), input.isDirectory(folder) else { continue }
            tenant.declare(collection.type)
            for (object, origin, objectFolder) in try objects(in: folder) {
                var properties = object
                if let objectFolder {
                    try attachRelationships(
                        collection.type, to: &properties, folder: objectFolder, origin: origin, sawMembers: &sawMembersFolder)
                }
                clean(collection.type, &properties)
                if collection.type == .appRoleAssignment || collection.type == .oauth2PermissionGrant {
                    addUnique(collection.type, properties, origin: origin)
                } else {
                    tenant.add(collection.type, properties, origin: origin)
                }
            }
        }
        try readDirectoryRoles()
        recordLosses(sawMembersFolder: sawMembersFolder)
        fillReferenceTypes()
        for entry in input.entries(input.root) where !Self.handled.contains(entry.lastPathComponent.lowercased()) {
            tenant.ignoredFiles.append(input.relative(entry))
        }
        tenant.exportedAt = input.newestFile
        return tenant
    }

    // MARK: Reading folders

    /// Every object of a collection folder: `<id>/<id>.json` folders, or JSON files directly inside.
    private mutating func objects(in folder: URL) throws(ImportError) -> [(JSONObject, ImportOrigin, URL?)] {
        var result: [(JSONObject, ImportOrigin, URL?)] = []
        for entry in input.entries(folder) {
            if input.isDirectory(entry) {
                let name = entry.lastPathComponent
                let files = input.entries(entry).filter { !input.isDirectory($0) && $0.pathExtension.lowercased() == "json" }
                guard
                    let file = files.first(where: {
                        $0.deletingPathExtension().lastPathComponent.caseInsensitiveCompare(name) == .orderedSame
                    })
                        ?? (files.count == 1 ? files[0] : nil)
                else {
                    // A folder with only relationship sub-folders (an object deleted during the export) holds no object.
                    if files.isEmpty { continue }
                    throw ImportError(
                        file: input.relative(entry), problem: "holds \(files.count) JSON files and none is \(name).json",
                        hint: "EntraExporter writes each object to <id>/<id>.json")
                }
                for object in try objectsInFile(file) { result.append((object, ImportOrigin(file: input.relative(file)), entry)) }
            } else if entry.pathExtension.lowercased() == "json" {
                for object in try objectsInFile(entry) { result.append((object, ImportOrigin(file: input.relative(entry)), nil)) }
            }
        }
        return result
    }

    /// The objects of one file: an object, an array of objects, or a Graph list `{"value": [...]}`.
    private mutating func objectsInFile(_ file: URL) throws(ImportError) -> [JSONObject] {
        let json = try input.json(file)
        let elements: [JSONValue]
        if let array = json.arrayValue {
            elements = array
        } else if let value = json["value"]?.arrayValue, json["id"] == nil {
            elements = value
        } else if json.objectValue != nil {
            elements = [json]
        } else {
            throw ImportError(
                file: input.relative(file), line: 1, problem: "expected a JSON object, an array of objects or {\"value\": [...]}")
        }
        var objects: [JSONObject] = []
        for (index, element) in elements.enumerated() {
            guard let object = element.objectValue else {
                throw ImportError(file: input.relative(file), column: "[\(index)]", problem: "not a JSON object")
            }
            objects.append(object)
        }
        return objects
    }

    /// The related objects under `folder/<name>/<id>/<id>.json`, or `nil` when the export has no such folder.
    private mutating func related(_ name: String, in folder: URL) throws(ImportError) -> [(JSONObject, ImportOrigin)]? {
        guard let sub = input.find([name], from: folder), input.isDirectory(sub) else { return nil }
        return try objects(in: sub).map { ($0.0, $0.1) }
    }

    private func reference(_ object: JSONObject) -> JSONValue? {
        guard let id = object["id"]?.stringValue, !id.isEmpty else { return nil }
        var reference: JSONObject = ["id": .string(id)]
        if let type = object["@odata.type"]?.stringValue { reference["@odata.type"] = .string(type) }
        return .object(reference)
    }

    private mutating func attachRelationships(
        _ type: ObjectType, to properties: inout JSONObject, folder: URL, origin: ImportOrigin, sawMembers: inout Bool
    ) throws(ImportError) {
        func references(_ items: [(JSONObject, ImportOrigin)]) -> JSONValue {
            .array(items.compactMap { reference($0.0) })
        }
        switch type {
        case .group:
            if let members = try related("Members", in: folder) {
                sawMembers = true
                properties["members"] = references(members)
            }
            if let owners = try related("Owners", in: folder) { properties["owners"] = references(owners) }
        case .administrativeUnit:
            if let members = try related("Members", in: folder) { properties["members"] = references(members) }
        case .application:
            if let owners = try related("Owners", in: folder) { properties["owners"] = references(owners) }
        case .servicePrincipal:
            if let owners = try related("Owners", in: folder) { properties["owners"] = references(owners) }
            for name in ["AppRoleAssignments", "AppRoleAssignedTo"] {
                for (assignment, origin) in try related(name, in: folder) ?? [] {
                    tenant.declare(.appRoleAssignment)
                    addUnique(.appRoleAssignment, assignment, origin: origin)
                }
            }
            for (grant, origin) in try related("Oauth2PermissionGrants", in: folder) ?? [] {
                tenant.declare(.oauth2PermissionGrant)
                addUnique(.oauth2PermissionGrant, grant, origin: origin)
            }
        default:
            break
        }
    }

    /// Assignments and grants are read from both ends (the principal's and the resource's folder): keep one.
    private mutating func addUnique(_ type: ObjectType, _ properties: JSONObject, origin: ImportOrigin) {
        if let id = properties["id"]?.stringValue, !seen[type, default: []].insert(id).inserted { return }
        tenant.add(type, properties, origin: origin)
    }

    /// Drops what a capture would not hold: `$expand`ed navigation objects and OData annotations of the response.
    private func clean(_ type: ObjectType, _ properties: inout JSONObject) {
        for key in properties.keys where key.hasPrefix("@odata.") && key != "@odata.type" { properties[key] = nil }
        if type == .roleAssignment {
            properties["principal"] = nil
            properties["roleDefinition"] = nil
        }
    }

    // MARK: Organization and directory roles

    private mutating func readOrganization() throws(ImportError) {
        guard let file = input.find(["Organization", "Organization.json"]) else { return }
        let objects = try objectsInFile(file)
        guard let organization = objects.first else { return }
        tenant.declare(.organization)
        tenant.add(.organization, organization, origin: ImportOrigin(file: input.relative(file)))
        tenant.sourceTenantId = organization["id"]?.stringValue
        let initial = organization["verifiedDomains"]?.arrayValue?.first { $0["isInitial"]?.boolValue == true }
        tenant.sourceInitialDomain = initial?["name"]?.stringValue?.lowercased()
    }

    /// `DirectoryRoles/<id>/Members`: the activated built-in roles and their members, the only role data of
    /// an export made without `RoleManagement`. Used when the export has no role definitions or assignments.
    private mutating func readDirectoryRoles() throws(ImportError) {
        guard let folder = input.find(["DirectoryRoles"]), input.isDirectory(folder) else { return }
        let needDefinitions = tenant.collections[.roleDefinition] == nil
        let needAssignments = tenant.collections[.roleAssignment] == nil
        guard needDefinitions || needAssignments else { return }
        if needDefinitions { tenant.declare(.roleDefinition) }
        if needAssignments { tenant.declare(.roleAssignment) }
        for (role, origin, roleFolder) in try objects(in: folder) {
            guard let templateId = role["roleTemplateId"]?.stringValue, !templateId.isEmpty else {
                throw ImportError(file: origin.file, column: "roleTemplateId", problem: "a directory role without a roleTemplateId")
            }
            let name = role["displayName"]?.stringValue ?? templateId
            if needDefinitions {
                let definition: JSONObject = [
                    "id": .string(templateId), "templateId": .string(templateId), "displayName": .string(name),
                    "description": role["description"] ?? .null, "isBuiltIn": true, "isEnabled": true, "rolePermissions": [],
                ]
                tenant.add(.roleDefinition, definition, origin: origin)
                tenant.lose(
                    .roleDefinition, definition, property: "rolePermissions", origin: origin, kind: "inferred",
                    "built from the directory role \(name); permissions are not in the export (built-in roles keep theirs)")
            }
            guard needAssignments, let roleFolder else { continue }
            for (member, memberOrigin) in try related("Members", in: roleFolder) ?? [] {
                guard let principal = member["id"]?.stringValue else { continue }
                let assignment: JSONObject = [
                    "id": .string("import-\(templateId)-\(principal)"), "roleDefinitionId": .string(templateId),
                    "principalId": .string(principal), "directoryScopeId": "/",
                ]
                tenant.add(.roleAssignment, assignment, origin: memberOrigin)
                tenant.lose(
                    .roleAssignment, assignment, property: "id", origin: memberOrigin, kind: "inferred",
                    "from the members of the directory role \(name): tenant-wide scope, id made up by the import")
            }
        }
    }

    // MARK: Losses

    private mutating func recordLosses(sawMembersFolder: Bool) {
        if let users = tenant.collections[.user], let first = users.first {
            tenant.lose(
                ImportLoss(
                    type: .user, property: "manager", file: first.origin.file.components(separatedBy: "/").first ?? "Users",
                    kind: "not-exported",
                    reason: "EntraExporter does not export managers; users.manager has nothing to restore"))
        }
        let staticGroups = (tenant.collections[.group] ?? []).filter {
            !($0.properties["groupTypes"]?.stringArray ?? []).contains { $0.caseInsensitiveCompare("DynamicMembership") == .orderedSame }
        }
        if !staticGroups.isEmpty, !sawMembersFolder {
            tenant.lose(
                ImportLoss(
                    type: .group, property: "members", file: "Groups", kind: "not-exported",
                    reason: "no group has a Members folder: export with -All or -Type Groups to include memberships"))
        }
        if tenant.collections[.roleAssignment] == nil {
            tenant.lose(
                ImportLoss(
                    type: .roleAssignment, file: "RoleManagement/Directory/RoleAssignments", kind: "not-exported",
                    reason: "the export holds no directory role assignments (nor DirectoryRoles members)"))
        }
        for type in [ObjectType.application, .servicePrincipal] {
            for object in tenant.collections[type] ?? [] {
                let keys = object.properties["keyCredentials"]?.arrayValue ?? []
                if keys.contains(where: { $0["key"] == nil || $0["key"]?.isNull == true }) {
                    tenant.lose(
                        type, object.properties, property: "keyCredentials", origin: object.origin, kind: "not-exported",
                        "certificate public keys are not returned in a list read; upload the certificates again")
                }
            }
        }
        PolicyReferenceCheck.record(in: &tenant)
    }

    /// Member and owner references read without `@odata.type` get it from the imported object with that id.
    private mutating func fillReferenceTypes() {
        let types = tenant.typeByID
        for type in [ObjectType.group, .administrativeUnit, .application, .servicePrincipal] {
            guard var objects = tenant.collections[type] else { continue }
            for index in objects.indices {
                for key in ["members", "owners"] {
                    guard let references = objects[index].properties[key]?.arrayValue else { continue }
                    objects[index].properties[key] = .array(
                        references.map { reference in
                            guard var object = reference.objectValue, object["@odata.type"] == nil, let id = object["id"]?.stringValue,
                                let found = types[id], let odata = ImportedTenant.odataType(found)
                            else { return reference }
                            object["@odata.type"] = .string(odata)
                            return .object(object)
                        })
                }
            }
            tenant.collections[type] = objects
        }
    }
}
