import Foundation
import LifeboatJSON

/// The formats of `lifeboat followups`.
package enum FollowUpFormat: String, Sendable, CaseIterable {
    case csv, json
}

/// Renders every follow-up of a run, the complete list behind the report's per-category summary.
package enum FollowUpWriter {
    /// The CSV header / JSON field names, in order.
    package static let columns = ["stage", "category", "operationKey", "sourceId", "displayName", "message", "action"]

    package static func render(_ records: [FollowUpRecord], format: FollowUpFormat) throws -> Data {
        switch format {
        case .csv:
            var text = columns.joined(separator: ",") + "\n"
            for record in records {
                let fields = [
                    record.stageID, record.followUp.category, record.operationKey ?? "", record.sourceID ?? "",
                    record.displayName ?? "", record.followUp.message, record.followUp.action,
                ]
                text += fields.map { CSVField.quoted($0) }.joined(separator: ",") + "\n"
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
