import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Something an export format did not carry, so the imported snapshot lacks it.
///
/// A loss names one object (``objectId``) or one input row (``line``) when it concerns that object's data,
/// or a whole collection (neither) when the format never holds it (e.g. no user has a manager in a CSV export).
package struct ImportLoss: Codable, Sendable, Hashable {
    /// The object type the loss concerns.
    package var type: ObjectType
    /// The object's source id; `nil` for a loss that applies to every object of the type.
    package var objectId: String?
    /// A name for people: UPN, display name, or the id.
    package var displayName: String?
    /// The Graph property that is missing or degraded; `nil` when the whole object was left out.
    package var property: String?
    /// The input file, relative to the import directory.
    package var file: String
    /// The CSV row's first line, when the loss comes from one row.
    package var line: Int?
    /// The source column or field.
    package var column: String?
    /// A short, stable category: `flattened`, `not-exported`, `truncated`, `inferred`, `unresolved`, `skipped`.
    package var kind: String
    /// What happened and what it means for a restore.
    package var reason: String

    /// `true` for a loss that applies to every object of the type (no object, no row).
    package var isCollectionWide: Bool { objectId == nil && line == nil }

    package init(
        type: ObjectType, objectId: String? = nil, displayName: String? = nil, property: String? = nil, file: String,
        line: Int? = nil, column: String? = nil, kind: String, reason: String
    ) {
        self.type = type
        self.objectId = objectId
        self.displayName = displayName
        self.property = property
        self.file = file
        self.line = line
        self.column = column
        self.kind = kind
        self.reason = reason
    }
}

/// `importLosses.json`: what the source format lost, kept inside the snapshot (listed and hashed in the manifest).
package struct ImportLossReport: Codable, Sendable, Hashable {
    /// The name of the file in a snapshot directory.
    package static let fileName = Snapshot.importLossesFileName

    package var formatVersion: Int
    /// `entra-exporter` or `powershell-csv`.
    package var importedFrom: String
    /// When the import ran, ISO 8601.
    package var importedAt: String
    package var losses: [ImportLoss]

    package init(importedFrom: String, importedAt: String, losses: [ImportLoss]) {
        formatVersion = 1
        self.importedFrom = importedFrom
        self.importedAt = importedAt
        self.losses = losses
    }

    /// Reads the losses of a loaded snapshot, or `nil` when it was not imported.
    ///
    /// `Snapshot.load` has already checked the file against the manifest's SHA-256.
    package static func read(from snapshot: Snapshot) throws(SnapshotError) -> ImportLossReport? {
        guard snapshot.manifest.files[fileName] != nil else { return nil }
        let url = snapshot.directory.appendingPathComponent(fileName)
        do {
            return try JSONCoding.decode(ImportLossReport.self, from: Data(contentsOf: url))
        } catch {
            throw SnapshotError(file: fileName, problem: "not a valid import-loss list (\(error))")
        }
    }

    /// Losses grouped for a summary: type, property and kind, with how many objects each concerns.
    package var grouped: [LossGroup] {
        var groups: [String: LossGroup] = [:]
        for loss in losses {
            // Collection-wide losses without a property (unmapped columns) stay apart per column.
            let column = loss.isCollectionWide && loss.property == nil ? loss.column : nil
            let key = "\(loss.type.rawValue)|\(loss.property ?? "")|\(column ?? "")|\(loss.kind)|\(loss.isCollectionWide)"
            var group =
                groups[key]
                ?? LossGroup(
                    type: loss.type, property: loss.property, column: column, kind: loss.kind,
                    wholeCollection: loss.isCollectionWide, objects: 0, example: loss.reason, files: [])
            if !loss.isCollectionWide { group.objects += 1 }
            if !group.files.contains(loss.file) { group.files.append(loss.file) }
            groups[key] = group
        }
        return groups.values.sorted {
            ($0.type, $0.property ?? "", $0.column ?? "", $0.kind) < ($1.type, $1.property ?? "", $1.column ?? "", $1.kind)
        }
    }
}

/// Losses of one kind on one property of one type.
package struct LossGroup: Sendable, Hashable {
    package var type: ObjectType
    package var property: String?
    /// The source column, for a whole-collection loss of a column (`unmapped`).
    package var column: String?
    package var kind: String
    /// `true` when the format never carries the property for any object of the type.
    package var wholeCollection: Bool
    /// How many objects (or rows) the loss names (0 for a whole-collection loss).
    package var objects: Int
    /// The reason given for the first such loss.
    package var example: String
    package var files: [String]
}
