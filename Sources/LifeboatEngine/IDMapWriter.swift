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

    /// Renders the whole map at once (small maps; a run's export streams it with ``Rendering`` instead).
    package static func render(_ entries: [IDMapEntry], format: IDMapFormat) throws -> Data {
        var rendering = Rendering(format)
        var data = rendering.opening
        for entry in entries { data.append(try rendering.row(entry)) }
        data.append(try rendering.closing)
        return data
    }

    /// The map's file, one row at a time: the opening, each row's bytes in order, then the closing, which together are
    /// the bytes ``render(_:format:)`` gives for the same rows (the JSON is the pretty-printed array `JSONCoding`
    /// writes, object by object). A run's export writes it straight from the checkpoint, without a copy of the map.
    package struct Rendering {
        package let format: IDMapFormat
        private var rows = 0
        private let encoder: JSONEncoder

        package init(_ format: IDMapFormat) {
            self.format = format
            encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        }

        /// What comes before the first row.
        package var opening: Data {
            switch format {
            case .csv: Data((columns.joined(separator: ",") + "\n").utf8)
            case .json: Data()
            }
        }

        /// One row's bytes (for JSON, with the separator or the array's opening before it).
        package mutating func row(_ entry: IDMapEntry) throws -> Data {
            defer { rows += 1 }
            switch format {
            case .csv:
                let fields = [
                    entry.objectType.rawValue, entry.oldID, entry.newID, entry.naturalKey ?? "", entry.displayName,
                    entry.how.rawValue, entry.oldAppID ?? "", entry.newAppID ?? "", entry.stageID,
                ]
                return Data((fields.map(csvField).joined(separator: ",") + "\n").utf8)
            case .json:
                let object: JSONValue = [
                    "type": .string(entry.objectType.rawValue), "oldId": .string(entry.oldID), "newId": .string(entry.newID),
                    "naturalKey": entry.naturalKey.map(JSONValue.string) ?? .null, "displayName": .string(entry.displayName),
                    "how": .string(entry.how.rawValue), "oldAppId": entry.oldAppID.map(JSONValue.string) ?? .null,
                    "newAppId": entry.newAppID.map(JSONValue.string) ?? .null, "stage": .string(entry.stageID),
                ]
                // An element of a pretty-printed array is the object pretty-printed alone, one level (two spaces) deeper:
                // its strings hold no raw line break (JSON escapes them), so indenting line by line is exact.
                var data = Data(rows == 0 ? "[\n  ".utf8 : ",\n  ".utf8)
                for byte in try encoder.encode(object) {
                    data.append(byte)
                    if byte == UInt8(ascii: "\n") { data.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: " ")]) }
                }
                return data
            }
        }

        /// What comes after the last row.
        package var closing: Data {
            get throws {
                switch format {
                case .csv: return Data()
                case .json: return rows == 0 ? try JSONCoding.encodePretty(JSONValue.array([])) + Data("\n".utf8) : Data("\n]\n".utf8)
                }
            }
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
