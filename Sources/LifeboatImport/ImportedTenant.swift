import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Where an imported object came from, so a problem found later still names the file, row and column.
package struct ImportOrigin: Sendable, Hashable {
    package var file: String
    package var line: Int?
    /// Graph property → the source column or field it was read from.
    package var columns: [String: String]

    package init(file: String, line: Int? = nil, columns: [String: String] = [:]) {
        self.file = file
        self.line = line
        self.columns = columns
    }
}

/// An object converted to Graph's shape, with its origin.
package struct ImportedObject: Sendable, Hashable {
    package var properties: JSONObject
    package var origin: ImportOrigin

    package var id: String? { properties["id"]?.stringValue }
    /// UPN, display name or id, for loss lists.
    package var label: String? {
        properties["userPrincipalName"]?.stringValue ?? properties["displayName"]?.stringValue ?? id
    }
}

/// Everything an importer read: objects per type, what the format lost, and what it knows of the source tenant.
package struct ImportedTenant: Sendable {
    /// The collections the source held (an empty array: the source had the file or folder but no objects).
    package var collections: [ObjectType: [ImportedObject]] = [:]
    package var losses: [ImportLoss] = []
    package var sourceTenantId: String?
    package var sourceInitialDomain: String?
    /// When the export was made, if the source says (else the newest input file's modification time).
    package var exportedAt: Date?
    /// Input files the importer did not use (other object types), for the summary.
    package var ignoredFiles: [String] = []

    package init() {}

    mutating func add(_ type: ObjectType, _ properties: JSONObject, origin: ImportOrigin) {
        collections[type, default: []].append(ImportedObject(properties: properties, origin: origin))
    }

    mutating func declare(_ type: ObjectType) {
        if collections[type] == nil { collections[type] = [] }
    }

    mutating func lose(_ loss: ImportLoss) { losses.append(loss) }

    /// A loss that concerns one object.
    mutating func lose(
        _ type: ObjectType, _ object: JSONObject, property: String?, origin: ImportOrigin, column: String? = nil,
        kind: String, _ reason: String
    ) {
        let label = object["userPrincipalName"]?.stringValue ?? object["displayName"]?.stringValue ?? object["id"]?.stringValue
        losses.append(
            ImportLoss(
                type: type, objectId: object["id"]?.stringValue, displayName: label, property: property,
                file: origin.file, line: origin.line, column: column ?? property.flatMap { origin.columns[$0] },
                kind: kind, reason: reason))
    }

    /// The ids of every imported object, with its type.
    var typeByID: [String: ObjectType] {
        var map: [String: ObjectType] = [:]
        for (type, objects) in collections where type != .organization {
            for object in objects { if let id = object.id { map[id] = type } }
        }
        return map
    }

    /// `#microsoft.graph.user` and friends for a type, as Graph writes them in references.
    static func odataType(_ type: ObjectType) -> String? {
        switch type {
        case .user: "#microsoft.graph.user"
        case .group: "#microsoft.graph.group"
        case .servicePrincipal: "#microsoft.graph.servicePrincipal"
        case .application: "#microsoft.graph.application"
        case .administrativeUnit: "#microsoft.graph.administrativeUnit"
        default: nil
        }
    }
}
