import Foundation
import LifeboatJSON

/// The formats of `lifeboat followups`.
public enum FollowUpFormat: String, Sendable, CaseIterable {
    case csv, json
}

/// Renders every follow-up of a run, the complete list behind the report's per-category summary.
public enum FollowUpWriter {
    /// The CSV header / JSON field names, in order.
    public static let columns = ["stage", "category", "operationKey", "sourceId", "displayName", "message", "action"]

    public static func render(_ records: [FollowUpRecord], format: FollowUpFormat) throws -> Data {
        switch format {
        case .csv:
            var text = columns.joined(separator: ",") + "\n"
            for record in records {
                let fields = [record.stageID, record.followUp.category, record.operationKey ?? "", record.sourceID ?? "",
                              record.displayName ?? "", record.followUp.message, record.followUp.action]
                text += fields.map(CSVCell.quote).joined(separator: ",") + "\n"
            }
            return Data(text.utf8)
        case .json:
            let rows: [JSONValue] = records.map { record in
                [
                    "stage": .string(record.stageID), "category": .string(record.followUp.category),
                    "operationKey": record.operationKey.map(JSONValue.string) ?? .null,
                    "sourceId": record.sourceID.map(JSONValue.string) ?? .null,
                    "displayName": record.displayName.map(JSONValue.string) ?? .null,
                    "message": .string(record.followUp.message), "action": .string(record.followUp.action),
                ]
            }
            return try JSONCoding.encodePretty(JSONValue.array(rows)) + Data("\n".utf8)
        }
    }
}

/// One CSV cell (RFC 4180), safe to open in a spreadsheet: display names come from the snapshot and are
/// attacker-controlled.
public enum CSVCell {
    /// Quotes the value when it holds a comma, a double quote, CR or LF (looked at per Unicode scalar: Swift reads
    /// CR LF, or a quote followed by a combining mark, as one character), doubling its quotes; a value that starts with
    /// `=`, `+`, `-`, `@`, tab or CR is prefixed with an apostrophe first so that no spreadsheet runs it as a formula.
    public static func quote(_ value: String) -> String {
        var scalars = value.unicodeScalars
        if let first = scalars.first, "=+-@\t\r".unicodeScalars.contains(first) { scalars.insert("'", at: scalars.startIndex) }
        guard scalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return String(scalars) }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in scalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }
}
