import Foundation
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct RawJSONObjectTests {
    /// Reads `text` as a collection and returns its elements as kept bytes, with their parsed values.
    private func elements(_ text: String) throws -> [(value: JSONValue, raw: RawJSONObject, text: String)] {
        var reader = JSONCollectionReader(Data(text.utf8))
        var result: [(JSONValue, RawJSONObject, String)] = []
        while let element = try reader.next() {
            let raw = RawJSONObject(buffer: reader.bytes, range: element.range)
            result.append((element.value, raw, String(decoding: raw.bytes, as: UTF8.self)))
        }
        return result
    }

    @Test func onePropertyReadsAsTheWholeObjectReadsIt() throws {
        let text = """
            [ {"id" : "a", "de\\u0070th": {"x": [1, {"}": "]"}], "y": "\\"{["}, "n": -1.5e3,
               "t": true, "f": false, "z": null, "s": "a,b}c", "last": [ ] } ,
              {"id":"b","e":{},"arr":[[],[[]]],"u":"\\u00e9\\ud83d\\ude80"}]
            """
        let read = try elements(text)
        #expect(read.count == 2)
        for (value, raw, _) in read {
            let object = try #require(value.objectValue)
            #expect(raw.object == object)
            for (key, expected) in object { #expect(raw[key] == expected, "\(key)") }
            #expect(raw["absent"] == nil)
            #expect(raw["dep"] == nil)
        }
        #expect(read[0].raw["depth"]?["x"]?.arrayValue?.count == 2)
        #expect(read[0].raw["last"] == .array([]))
        #expect(read[1].raw["u"]?.stringValue == "é🚀")
        #expect(read[1].text == #"{"id":"b","e":{},"arr":[[],[[]]],"u":"\u00e9\ud83d\ude80"}"#)
    }

    @Test func objectsMadeFromPropertiesAreEqualToTheSameObjectRead() throws {
        let read = try elements(#"{"value": [ {"b": [1, 2], "a": "x"} ]}"#)
        let made = RawJSONObject(["a": "x", "b": [1, 2]])
        #expect(made == read[0].raw)
        #expect(made.hashValue == read[0].raw.hashValue)
        #expect(made != RawJSONObject(["a": "y", "b": [1, 2]]))
        #expect(String(decoding: made.bytes, as: UTF8.self) == #"{"a":"x","b":[1,2]}"#)
    }

    @Test func theReaderTakesEveryCollectionShapeAndRefusesTheRest() throws {
        #expect(try elements(#"[{"id":"1"},{"id":"2"}]"#).map(\.text) == [#"{"id":"1"}"#, #"{"id":"2"}"#])
        #expect(try elements("[]").isEmpty)
        #expect(try elements(#"{"value":[]}"#).isEmpty)
        let listResponse = #"{"@odata.context": "x", "value": [{"id":"1"}, 7], "@odata.nextLink": null}"#
        #expect(try elements(listResponse).map(\.text) == [#"{"id":"1"}"#, "7"])
        #expect(try elements(#" {"id": "org", "value": "not a list"} "#).map(\.text) == [#"{"id": "org", "value": "not a list"}"#])

        for notACollection in ["42", #"{"name": "no id"}"#, #""text""#] {
            #expect(throws: JSONCollectionError.notACollection) { try elements(notACollection) }
        }
        for malformed in [
            #"[{"id":"1"},]"#, #"[{"id":"1"}"#, #"{"value":[{"id":"1"}], "value": []}"#, #"[{"id":"1"}] trailing"#,
            #"{"value":[{"id":"1","id":"2"}]}"#, #"{"value":[{"id":"1"}]"#, "",
        ] {
            #expect(throws: JSONCollectionError.self, "\(malformed)") { try elements(malformed) }
        }
        // Errors say where, as a whole-document parse does.
        let truncated = "{\n  \"value\": [\n    {\"id\": \"a\"},\n    {\"id\": "
        let error = #expect(throws: JSONCollectionError.self) { try elements(truncated) }
        guard case .syntax(let where_)? = error else {
            Issue.record("expected a syntax error, got \(String(describing: error))")
            return
        }
        #expect(where_.line == 4)
        #expect(where_.description.contains("truncated"))
    }
}

@Suite struct ConcurrentSnapshotLoadingTests {
    @Test func loadsTheSameObjectsAsTheSequentialLoad() async throws {
        let sequential = try Snapshot.load(from: Fixtures.contoso)
        let concurrent = try await Snapshot.loadConcurrently(from: Fixtures.contoso)
        #expect(concurrent.users == sequential.users)
        #expect(concurrent.groups == sequential.groups)
        #expect(concurrent.organization == sequential.organization)
        #expect(concurrent.domains == sequential.domains)
        #expect(concurrent.applications == sequential.applications)
        #expect(concurrent.servicePrincipals == sequential.servicePrincipals)
        #expect(concurrent.conditionalAccessPolicies == sequential.conditionalAccessPolicies)
        #expect(concurrent.typeByID == sequential.typeByID)
        #expect(concurrent.counts == sequential.counts)
        #expect(concurrent.manifestData == sequential.manifestData)
        // Every user's properties are the bytes of its line in users.json.
        let file = try JSONCoding.decode(Data(contentsOf: Fixtures.contoso.appendingPathComponent("users.json")))
        let originals = try #require(file["value"]?.arrayValue).compactMap(\.objectValue)
        #expect(concurrent.users.map(\.properties) == originals)
        #expect(concurrent.users.map(\.displayName) == originals.map { $0["displayName"]?.stringValue ?? "" })
    }

    @Test func referencesShareTheReferencedObjectsIDStorage() async throws {
        func storage(_ text: String) -> UnsafeRawPointer? {
            var copy = text
            return copy.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        for snapshot in [try Snapshot.load(from: Fixtures.contoso), try await Snapshot.loadConcurrently(from: Fixtures.contoso)] {
            let users = Dictionary(uniqueKeysWithValues: snapshot.users.map { ($0.id, $0) })
            let references = snapshot.groups.flatMap(\.members) + snapshot.users.compactMap(\.manager)
            let toUsers = references.filter { users[$0.id] != nil }
            #expect(toUsers.count > 40)
            for reference in toUsers {
                let user = try #require(users[reference.id])
                #expect(storage(reference.id) == storage(user.id), "\(reference.id)")
            }
        }
    }

    @Test(arguments: TamperedSnapshot.all)
    func refusesAlteredSnapshotsWithTheSameError(_ tampered: TamperedSnapshot) async throws {
        let directory = try TemporaryDirectory("tamper-concurrent")
        let copy = try Fixtures.copyContoso(into: directory)
        try tampered.alter(copy)
        let sequential = try #require(throws: SnapshotError.self) { try Snapshot.load(from: copy) }
        do {
            _ = try await Snapshot.loadConcurrently(from: copy)
            Issue.record("the altered snapshot loaded")
        } catch {
            #expect(error == sequential)
        }
    }

    @Test func anIDTwoFilesShareIsRefusedInFileOrder() async throws {
        let directory = try TemporaryDirectory("duplicate-id")
        let copy = try Fixtures.copyContoso(into: directory)
        let snapshot = try Snapshot.load(from: copy)
        let userID = try #require(snapshot.users.first?.id)
        let groupID = try #require(snapshot.groups.first?.id)
        try Fixtures.rewrite("groups.json", in: copy) { data in
            Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: groupID, with: userID).utf8)
        }
        let sequential = try #require(throws: SnapshotError.self) { try Snapshot.load(from: copy) }
        #expect(sequential.file == "groups.json")
        #expect(sequential.description.contains("is also the id of a user"))
        do {
            _ = try await Snapshot.loadConcurrently(from: copy)
            Issue.record("the snapshot with a shared id loaded")
        } catch {
            #expect(error == sequential)
        }
    }

    /// Contoso with `extra` more users in users.json (enough for its elements to be parsed in parts), each line
    /// passed through `alter` with its position among all users.
    private func largeSnapshot(_ name: String, extra: Int = 12_000, alter: @escaping (Int, String) -> String = { $1 }) throws -> (
        TemporaryDirectory, URL
    ) {
        let directory = try TemporaryDirectory(name)
        let copy = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("users.json", in: copy) { data in
            let file = try? JSONCoding.decode(data)
            var lines = (file?["value"]?.arrayValue ?? []).map { JSONCoding.string($0) }
            for number in 0..<extra {
                let id = String(format: "%08x-0000-4000-8000-%012x", number, number)
                let user =
                    #"{"id":"\#(id)","userPrincipalName":"user\#(number)@contoso.com","displayName":"User \#(number)","accountEnabled":true}"#
                // Some elements spread over lines, as a pretty-printed file has them.
                lines.append(number % 1000 == 7 ? user.replacingOccurrences(of: ",", with: " ,\n   ") : user)
            }
            let altered = lines.enumerated().map { alter($0.offset, $0.element) }
            return Data(("{\"@odata.context\": \"users\", \"value\": [\n" + altered.joined(separator: ",\n") + "\n]}\n").utf8)
        }
        return (directory, copy)
    }

    @Test func aLargeCollectionParsedInPartsLoadsAsItDoesInOnePass() async throws {
        let (directory, copy) = try largeSnapshot("parts")
        let sequential = try Snapshot.load(from: copy)
        let concurrent = try await Snapshot.loadConcurrently(from: copy)
        #expect(sequential.users.count == 12_040)
        #expect(concurrent.users == sequential.users)
        #expect(concurrent.typeByID == sequential.typeByID)
        #expect(
            concurrent.users.map { String(decoding: $0.raw.bytes, as: UTF8.self) }
                == sequential.users.map { String(decoding: $0.raw.bytes, as: UTF8.self) })
        _ = directory
    }

    @Test func aProblemInALargeCollectionIsReportedAsOnePassReportsIt() async throws {
        let alterations: [(String, (Int, String) -> String)] = [
            ("missing property", { $0 == 11_523 ? $1.replacingOccurrences(of: "userPrincipalName", with: "upn") : $1 }),
            ("missing comma", { $0 == 9_001 ? $1 + " {\"id\": 1}" : $1 }),
            ("bad escape", { $0 == 3_000 ? $1.replacingOccurrences(of: "User ", with: "User \\q") : $1 }),
            ("unbalanced", { $0 == 12_000 ? $1 + "}" : $1 }),
            (
                "duplicate id",
                { position, line in
                    // Users 40 and up are the added ones: give one the id of the one before it.
                    let id = { String(format: "%08x-0000-4000-8000-%012x", $0, $0) }
                    return position == 10_040 ? line.replacingOccurrences(of: id(10_000), with: id(9_999)) : line
                }
            ),
            ("not an object", { $0 == 6_000 ? "[1, 2]" : $1 }),
        ]
        for (name, alter) in alterations {
            let (directory, copy) = try largeSnapshot("parts-bad", alter: alter)
            let sequential = try #require(throws: SnapshotError.self, "\(name)") { _ = try Snapshot.load(from: copy) }
            do {
                _ = try await Snapshot.loadConcurrently(from: copy)
                Issue.record("\(name): the snapshot loaded")
            } catch {
                #expect(error == sequential, "\(name)")
            }
            _ = directory
        }
    }
}
