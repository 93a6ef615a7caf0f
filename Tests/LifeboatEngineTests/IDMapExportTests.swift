import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

@testable import LifeboatEngine

/// The ID map export streams the map from the checkpoint row by row; the file must be byte for byte what the previous
/// export wrote from the whole map held in memory (``previousRendering(_:format:)`` is that code, kept here as the reference).
@Suite struct IDMapExportTests {
    /// The export as it was before it streamed: every row in memory, the JSON as one pretty-printed array.
    static func previousRendering(_ entries: [IDMapEntry], format: IDMapFormat) throws -> Data {
        switch format {
        case .csv:
            var text = IDMapWriter.columns.joined(separator: ",") + "\n"
            for entry in entries {
                let fields = [
                    entry.objectType.rawValue, entry.oldID, entry.newID, entry.naturalKey ?? "", entry.displayName,
                    entry.how.rawValue, entry.oldAppID ?? "", entry.newAppID ?? "", entry.stageID,
                ]
                text += fields.map { CSVField.quoted($0) }.joined(separator: ",") + "\n"
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

    static let awkward: [IDMapEntry] = [
        IDMapEntry(
            objectType: .user, oldID: "1", newID: "2", naturalKey: nil, displayName: "Eve\r\n=1+2,evil \"quoted\"", how: .created,
            stageID: "users"),
        IDMapEntry(
            objectType: .application, oldID: "a/b", newID: "c\\d", naturalKey: "https://contoso.com/app", displayName: "Zoë 🚀\t\u{1}",
            how: .adopted, oldAppID: "old-app", newAppID: "new-app", stageID: "apps"),
        IDMapEntry(
            objectType: .group, oldID: "g", newID: "h", naturalKey: "", displayName: "", how: .restored, stageID: "groups"),
    ]

    @Test(arguments: IDMapFormat.allCases)
    func rowByRowIsWhatTheWholeMapWasWritten(_ format: IDMapFormat) throws {
        for entries in [[], Array(Self.awkward.prefix(1)), Self.awkward] {
            let streamed = try IDMapWriter.render(entries, format: format)
            #expect(streamed == (try Self.previousRendering(entries, format: format)), "\(entries.count) rows")
        }
    }

    /// A drill's export stage and `lifeboat idmap`'s two ways (a file, a handle) write the previous export's bytes.
    @Test func aDrillsExportIsByteForByteThePreviousOne() async throws {
        let drill = try await Drill("idmap-export")
        #expect(try await drill.executor().run() == .completed)
        let entries = try await drill.store.idMapEntries()
        #expect(entries.count > 20)
        let exported = try Data(contentsOf: drill.directory.url.appendingPathComponent("idmap.csv"))
        #expect(exported == (try Self.previousRendering(entries, format: .csv)))
        for format in IDMapFormat.allCases {
            let previous = try Self.previousRendering(entries, format: format)
            let file = drill.directory.url.appendingPathComponent("again.\(format.rawValue)")
            #expect(try await drill.store.exportIDMap(to: file, format: format) == entries.count)
            #expect(try Data(contentsOf: file) == previous)
            // Only the file is left in the directory: the partial one it was written through is gone.
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: drill.directory.url.path)).contains { $0.hasSuffix(".partial") })

            let handlePath = drill.directory.path("handle.\(format.rawValue)")
            #expect(FileManager.default.createFile(atPath: handlePath, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: handlePath))
            #expect(try await drill.store.writeIDMap(format, to: handle) == entries.count)
            try handle.close()
            #expect(try Data(contentsOf: URL(fileURLWithPath: handlePath)) == previous)
        }
    }
}
