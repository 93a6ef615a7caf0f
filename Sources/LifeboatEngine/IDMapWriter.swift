import Foundation
import LifeboatJSON

/// Formats of an exported ID map.
public enum IDMapFormat: String, Sendable, CaseIterable {
    case csv, json
}

/// Renders the ID map for downstream systems (Azure RBAC, SharePoint, SaaS apps, scripts that stored old ids).
public enum IDMapWriter {
    /// The CSV header / JSON field names, in order.
    public static let columns = ["type", "oldId", "newId", "naturalKey", "displayName", "how", "oldAppId", "newAppId", "stage"]

    public static func render(_ entries: [IDMapEntry], format: IDMapFormat) throws -> Data {
        switch format {
        case .csv:
            var text = columns.joined(separator: ",") + "\n"
            for entry in entries {
                let fields = [entry.objectType.rawValue, entry.oldID, entry.newID, entry.naturalKey ?? "", entry.displayName,
                              entry.how.rawValue, entry.oldAppID ?? "", entry.newAppID ?? "", entry.stageID]
                text += fields.map(csvField).joined(separator: ",") + "\n"
            }
            return Data(text.utf8)
        case .json:
            let rows: [JSONValue] = entries.map { entry in
                [
                    "type": .string(entry.objectType.rawValue), "oldId": .string(entry.oldID), "newId": .string(entry.newID),
                    "naturalKey": entry.naturalKey.map(JSONValue.string) ?? .null, "displayName": .string(entry.displayName),
                    "how": .string(entry.how.rawValue), "oldAppId": entry.oldAppID.map(JSONValue.string) ?? .null,
                    "newAppId": entry.newAppID.map(JSONValue.string) ?? .null, "stage": .string(entry.stageID),
                ]
            }
            return try JSONCoding.encodePretty(JSONValue.array(rows)) + Data("\n".utf8)
        }
    }

    /// Quotes a CSV field when needed, and defuses spreadsheet formulas (display names are attacker-controlled).
    static func csvField(_ value: String) -> String { CSVCell.quote(value) }
}
