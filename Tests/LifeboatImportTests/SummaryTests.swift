import Foundation
import LifeboatImport
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct SnapshotSummaryTests {
    /// A tenant with nothing Lifeboat cannot bring back: no users, secrets, sync, mail-enabled or dynamic groups.
    func writeCleanSnapshot(_ directory: URL, capturedAt: Date) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files: [String: String] = [
            "domains.json": #"{"value": [{"id": "clean.onmicrosoft.com", "isInitial": true, "isVerified": true}]}"#,
            "groups.json":
                #"{"value": [{"id": "0c1e7a52-3d5b-4c8e-9f21-6a7b8c9d0e1f", "displayName": "SG", "mailNickname": "sg", "mailEnabled": false, "securityEnabled": true, "groupTypes": [], "members": []}]}"#,
            "applications.json":
                #"{"value": [{"id": "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "appId": "2e3f4051-6b7c-4d8e-9fa0-1b2c3d4e5f60", "displayName": "App", "passwordCredentials": [], "keyCredentials": []}]}"#,
        ]
        for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        _ = try Snapshot.writeManifest(
            in: directory, sourceTenantId: "clean", sourceInitialDomain: "clean.onmicrosoft.com",
            capturedAt: capturedAt, toolVersion: "test")
    }

    @Test func aCleanSnapshotHasOnlyTheRecycleBinNote() throws {
        let directory = try TemporaryDirectory("summary-clean")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try writeCleanSnapshot(directory.url, capturedAt: now.addingTimeInterval(-3 * 86_400))
        let summary = try SnapshotSummary.analyse(try Snapshot.load(from: directory.url), now: now)
        #expect(summary.warnings.map(\.code) == ["recycle-bin-window"])
        #expect(summary.warnings.first?.severity == "info" && summary.ageDays == 3)
        #expect(summary.importLosses == nil)
        #expect(summary.counts.map(\.type) == [.domain, .group, .application])
    }

    @Test func anOldSnapshotIsOutsideTheRecycleBinWindow() throws {
        let directory = try TemporaryDirectory("summary-old")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try writeCleanSnapshot(directory.url, capturedAt: now.addingTimeInterval(-45 * 86_400))
        let summary = try SnapshotSummary.analyse(try Snapshot.load(from: directory.url), now: now)
        let window = try #require(summary.warnings.first { $0.code == "recycle-bin-window" })
        #expect(window.severity == "warning" && window.count == 45)
        #expect(window.message.contains("older than the 30-day"))
    }

    @Test func theExampleAndAnImportTriggerTheirWarnings() throws {
        let contoso = try SnapshotSummary.analyse(try Snapshot.load(from: Fixtures.contoso))
        let codes = Set(contoso.warnings.map(\.code))
        #expect(codes.isSuperset(of: ["passwords-and-mfa", "synced-users", "guests", "dynamic-groups", "recycle-bin-window"]))
        #expect(!codes.contains("import-losses"))

        let directory = try TemporaryDirectory("summary-import")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        let out = directory.url.appendingPathComponent("snap")
        let captured = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try SnapshotImport.run(format: .entraExporter, input: input, output: out, capturedAt: captured, toolVersion: "test")
        let summary = try SnapshotSummary.analyse(try Snapshot.load(from: out), now: captured.addingTimeInterval(10 * 86_400))
        let warnings = Dictionary(uniqueKeysWithValues: summary.warnings.map { ($0.code, $0) })
        #expect(warnings["client-secrets"]?.count == 1)
        #expect(warnings["certificate-keys"]?.count == 1)
        #expect(warnings["synced-users"]?.count == 1)
        #expect(warnings["guests"]?.count == 1)
        #expect(warnings["dynamic-groups"]?.count == 1)
        #expect(warnings["licences"]?.count == 1)
        #expect(warnings["unrestorable-members"]?.count == 1)  // the device in Project Phoenix
        #expect(warnings["passwords-and-mfa"]?.count == 5)
        #expect(warnings["recycle-bin-window"]?.severity == "info")
        #expect(warnings["import-losses"] != nil)
        #expect(warnings["mail-enabled-security-groups"] == nil)
        #expect(summary.importLosses?.importedFrom == "entra-exporter")

        let json = summary.json
        #expect(json["counts"]?["user"]?.numberValue == 7)
        #expect(json["ageDays"]?.numberValue == 10)
        #expect(json["import"]?["groups"]?.arrayValue?.isEmpty == false)
    }
}
