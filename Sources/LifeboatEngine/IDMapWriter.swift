import Foundation
import LifeboatJSON

/// Formats of an exported ID map.
package enum IDMapFormat: String, Sendable, CaseIterable {
    case csv, json
}

/// Renders the ID map for downstream systems (Azure RBAC, SharePoint, SaaS apps, scripts that stored old ids).
package enum IDMapWriter {
    /// The CSV header / JSON field names, in order.
    package static let columns = ["type", "oldId", "newId", "naturalKey", "displayName", "how", "oldAppId", "newAppId", "stage"]

    package static func render(_ entries: [IDMapEntry], format: IDMapFormat) throws -> Data {
        switch format {
        case .csv:
            var text = columns.joined(separator: ",") + "\n"
            for entry in entries {
                let fields = [
                    entry.objectType.rawValue, entry.oldID, entry.newID, entry.naturalKey ?? "", entry.displayName,
                    entry.how.rawValue, entry.oldAppID ?? "", entry.newAppID ?? "", entry.stageID,
                ]
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
    static func csvField(_ value: String) -> String { CSVField.quoted(value) }
}

/// One field of a CSV file Lifeboat writes (ID maps, secrets files), safe to open in a spreadsheet.
package enum CSVField {
    /// The scalars that start a formula in spreadsheet programs (and the two control characters some of them skip).
    static let formulaPrefixes: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
    /// The scalars that force quoting: separator, quote and every line break, looked at scalar by scalar (in Swift,
    /// "\r\n" is one Character, so a Character-level check would miss it).
    static let quotingScalars: Set<Unicode.Scalar> = [",", "\"", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"]

    /// The field as written: a formula prefix is defused with a leading apostrophe (unless `defusingFormulas` is false:
    /// a secret must be written exactly as issued), and the field is quoted (inner quotes doubled) when it holds a
    /// separator, a quote or a line break.
    package static func quoted(_ value: String, defusingFormulas: Bool = true) -> String {
        var value = value
        if defusingFormulas, let first = value.unicodeScalars.first, formulaPrefixes.contains(first) { value = "'" + value }
        guard value.unicodeScalars.contains(where: quotingScalars.contains) else { return value }
        // Doubled scalar by scalar: a quote followed by a combining mark is one Character.
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in value.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }
}
