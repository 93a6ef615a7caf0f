import Foundation
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct SnapshotLoadingTests {
    @Test func loadsTheContosoExampleWithEveryObjectType() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        #expect(snapshot.users.count == 40)
        #expect(snapshot.groups.count >= 10)
        #expect(snapshot.users.filter(\.isGuest).count == 1)
        #expect(snapshot.users.filter { !$0.accountEnabled }.count == 1)
        #expect(snapshot.users.filter(\.onPremisesSyncEnabled).count == 1)
        #expect(snapshot.groups.contains { $0.isUnified })
        #expect(snapshot.groups.contains { $0.isDynamic })
        #expect(snapshot.groups.contains { $0.isAssignableToRole })
        #expect(snapshot.groups.contains { $0.members.count > 20 })
        #expect(snapshot.groups.contains { $0.members.contains { $0.typeName == "group" } })
        #expect(snapshot.applications.count == 3)
        #expect(snapshot.namedLocations.count == 2)
        #expect(snapshot.conditionalAccessPolicies.count == 4)
        #expect(snapshot.domains.filter { !$0.isInitial }.count == 2)
        #expect(snapshot.manifest.sourceTenantId == snapshot.organization.first?.id)
        #expect(snapshot.manifestSHA256.count == 64)
    }

    @Test func keepsPropertiesLifeboatDoesNotModel() throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let withExtra = try #require(snapshot.users.first { $0.properties["employeeType"] != nil })
        let raw = try JSONCoding.decode(Data(contentsOf: Fixtures.contoso.appendingPathComponent("users.json")))
        let original = try #require(raw["value"]?.arrayValue?.first { $0["id"]?.stringValue == withExtra.id }?.objectValue)
        #expect(withExtra.properties == original)
    }

    @Test func acceptsAPlainArrayAsWellAsAListResponse() throws {
        let directory = try TemporaryDirectory("array")
        let copy = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("namedLocations.json", in: copy) { data in
            let value = (try? JSONCoding.decode(data))?["value"] ?? .array([])
            return (try? JSONCoding.encode(value)) ?? Data()
        }
        let snapshot = try Snapshot.load(from: copy)
        #expect(snapshot.namedLocations.count == 2)
    }
}

/// A snapshot altered after capture, and what the refusal must say.
struct TamperedSnapshot: Sendable, CustomTestStringConvertible {
    var name: String
    var alter: @Sendable (URL) throws -> Void
    var file: String
    var mentions: String
    var testDescription: String { name }

    static let all: [TamperedSnapshot] = [
        TamperedSnapshot(
            name: "one byte changed",
            alter: { url in
                let file = url.appendingPathComponent("users.json")
                var data = try Data(contentsOf: file)
                data[data.count / 2] = data[data.count / 2] == 0x41 ? 0x42 : 0x41
                try data.write(to: file)
            }, file: "users.json", mentions: "SHA-256"),
        TamperedSnapshot(
            name: "file removed",
            alter: { url in
                try FileManager.default.removeItem(at: url.appendingPathComponent("groups.json"))
            }, file: "groups.json", mentions: "missing"),
        TamperedSnapshot(
            name: "file added",
            alter: { url in
                var manifest = try JSONCoding.decode(
                    SnapshotManifest.self, from: Data(contentsOf: url.appendingPathComponent("manifest.json")))
                manifest.files["roleAssignments.json"] = nil
                try JSONCoding.encodePretty(manifest).write(to: url.appendingPathComponent("manifest.json"))
            }, file: "roleAssignments.json", mentions: "not listed"),
        TamperedSnapshot(
            name: "truncated JSON, re-sealed",
            alter: { url in
                try Fixtures.rewrite("users.json", in: url) { $0.prefix($0.count / 3) }
            }, file: "users.json", mentions: "not valid JSON"),
        TamperedSnapshot(
            name: "required property missing",
            alter: { url in
                try Fixtures.rewrite("users.json", in: url) { data in
                    String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"userPrincipalName\"", with: "\"userPrincipalNameX\"")
                        .data(using: .utf8)!
                }
            }, file: "users.json", mentions: "userPrincipalName: missing"),
        TamperedSnapshot(
            name: "manifest missing",
            alter: { url in
                try FileManager.default.removeItem(at: url.appendingPathComponent("manifest.json"))
            }, file: "manifest.json", mentions: "manifest"),
    ]
}

@Suite struct SnapshotTamperingTests {
    @Test(arguments: TamperedSnapshot.all)
    func refusesAlteredSnapshots(_ tampered: TamperedSnapshot) throws {
        let directory = try TemporaryDirectory("tamper")
        let copy = try Fixtures.copyContoso(into: directory)
        try tampered.alter(copy)
        let error = try #require(throws: SnapshotError.self) { try Snapshot.load(from: copy) }
        #expect(error.file.hasSuffix(tampered.file))
        #expect(error.description.contains(tampered.mentions), "\(error)")
    }
}
