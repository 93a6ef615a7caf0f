import Foundation
import LifeboatJSON
import LifeboatSQLite
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// Hostile input, from every door: runbooks, scenarios, snapshots, both import formats, state databases and the command
/// line. Each case asserts the exit code, that the message names the file and the place, that nothing trapped, and that
/// nothing was written to the target (the fake tenant's state file, the import's output, the state database).
/// Runbook and scenario fixtures live in Tests/Fixtures/Hostile with their expectations in EXPECT.tsv.
struct HostileCase: Sendable, CustomTestStringConvertible {
    enum Door: String, Sendable { case runbook, scenario, snapshot, entraExporter, powershellCSV, state, commandLine }
    var door: Door
    var name: String
    var exit: Int32 = 2
    /// Text the message must hold: the file, the place (line, `value[i]`, column) and the field.
    var mentions: [String]
    /// Builds the input in a directory and returns the command line (relative paths resolve in that directory).
    var arrange: @Sendable (TemporaryDirectory) throws -> [String]
    var testDescription: String { "\(door.rawValue): \(name)" }

    static let fixtures = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/Hostile")
    static let runbook = Fixtures.runbook("rebuild-new-tenant.yaml").path

    /// The cases of one fixture directory, from its EXPECT.tsv.
    static func fromFixtures(_ folder: String, _ door: Door) -> [HostileCase] {
        let directory = fixtures.appendingPathComponent(folder)
        let table = (try? String(contentsOf: directory.appendingPathComponent("EXPECT.tsv"), encoding: .utf8)) ?? ""
        return table.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { row in
            let cells = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let path = directory.appendingPathComponent(cells[0]).path
            let line = Int(cells[2]) ?? 0
            var mentions = [line > 0 ? "\(path):\(line):" : path]
            if cells.count > 3, !cells[3].isEmpty { mentions.append(cells[3]) }
            return HostileCase(door: door, name: cells[0], exit: Int32(cells[1]) ?? 2, mentions: mentions) { _ in
                door == .runbook
                    ? ["tabletop", "--runbook", path, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite"]
                    : ["tabletop", "--scenario", path, "--state", "s.sqlite"]
            }
        }
    }

    /// A copy of Contoso altered by `alter` (re-sealed when `reseal` names the file), rehearsed with the shipped runbook.
    static func snapshot(_ name: String, mentions: [String], reseal: String? = nil, _ alter: @escaping @Sendable (URL) throws -> Void)
        -> HostileCase
    {
        HostileCase(door: .snapshot, name: name, mentions: mentions) { directory in
            let copy = try Fixtures.copyContoso(into: directory)
            if let reseal {
                try alter(copy)
                try Fixtures.rewrite(reseal, in: copy) { $0 }
            } else {
                try alter(copy)
            }
            return ["tabletop", "--runbook", runbook, "--snapshot", copy.path, "--state", "s.sqlite"]
        }
    }

    /// Replaces text in a snapshot file.
    static func edit(_ file: String, _ from: String, _ to: String, count: Int = 1) -> @Sendable (URL) throws -> Void {
        { snapshot in
            let url = snapshot.appendingPathComponent(file)
            var text = try String(contentsOf: url, encoding: .utf8)
            guard let range = text.range(of: from) else { throw CocoaError(.fileReadCorruptFile) }
            text.replaceSubrange(range, with: to)
            try Data(text.utf8).write(to: url)
        }
    }

    static let snapshots: [HostileCase] = [
        snapshot(
            "path traversal in a user id", mentions: ["users.json", "value[0]", "id", "not a GUID"], reseal: "users.json",
            edit("users.json", "7f47cc86-2103-433e-83b4-85c281607aa6", "../../../beta/users/x")),
        snapshot(
            "query in a group id", mentions: ["groups.json", "value[0]", "id"], reseal: "groups.json",
            edit("groups.json", "\"id\": \"", "\"id\": \"?$top=1&x=")),
        snapshot("member reference not a GUID", mentions: ["groups.json", "members[", "not a GUID"], reseal: "groups.json") { url in
            let file = url.appendingPathComponent("groups.json")
            var json = try JSONCoding.decode(Data(contentsOf: file))
            guard var groups = json["value"]?.arrayValue,
                let index = groups.firstIndex(where: { !($0["members"]?.arrayValue ?? []).isEmpty }),
                var group = groups[index].objectValue, var members = group["members"]?.arrayValue, var first = members[0].objectValue
            else { return }
            first["id"] = "../directoryObjects/x"
            members[0] = .object(first)
            group["members"] = .array(members)
            groups[index] = .object(group)
            json = ["value": .array(groups)]
            try JSONCoding.encodePretty(json).write(to: file)
        },
        snapshot(
            "domain id with a slash", mentions: ["domains.json", "value[0]", "domain name"], reseal: "domains.json",
            edit("domains.json", "\"id\": \"contoso.com\"", "\"id\": \"contoso.com/../x\"")),
        snapshot(
            "hostile directory scope", mentions: ["roleAssignments.json", "directoryScopeId"], reseal: "roleAssignments.json",
            edit(
                "roleAssignments.json", "\"directoryScopeId\": \"/administrativeUnits/", "\"directoryScopeId\": \"/../administrativeUnits/")
        ),
        snapshot(
            "app role id not a GUID", mentions: ["appRoleAssignments.json", "value[0]", "appRoleId"], reseal: "appRoleAssignments.json"
        ) { url in
            let file = url.appendingPathComponent("appRoleAssignments.json")
            let text = try String(contentsOf: file, encoding: .utf8)
            let replaced = text.replacingOccurrences(
                of: #""appRoleId": "[^"]*""#, with: #""appRoleId": "x y""#, options: .regularExpression)
            try Data(replaced.utf8).write(to: file)
        },
        snapshot(
            "duplicate property in an object", mentions: ["users.json", "line", "duplicate property"], reseal: "users.json",
            edit("users.json", "\"displayName\": \"Amelia Hart\",", "\"displayName\": \"Amelia Hart\", \"displayName\": \"Mallory\",")),
        snapshot("duplicate property in the manifest", mentions: ["manifest.json", "duplicate property \"sourceTenantId\""]) { url in
            let file = url.appendingPathComponent("manifest.json")
            let text = try String(contentsOf: file, encoding: .utf8)
            try Data(
                text.replacingOccurrences(
                    of: "{", with: "{\n  \"sourceTenantId\": \"00000000-0000-0000-0000-000000000000\",", options: [],
                    range: text.range(of: "{")
                ).utf8
            ).write(to: file)
        },
        snapshot("invalid UTF-8 in a display name", mentions: ["users.json", "line", "invalid UTF-8"], reseal: "users.json") { url in
            let file = url.appendingPathComponent("users.json")
            var data = try Data(contentsOf: file)
            let range = try #require(data.range(of: Data("Amelia".utf8)))
            data.replaceSubrange(range, with: Data([0x41, 0xC3, 0x28, 0xFF, 0x61]))
            try data.write(to: file)
        },
        snapshot("hash mismatch", mentions: ["groups.json", "SHA-256"]) { url in
            let file = url.appendingPathComponent("groups.json")
            try (try Data(contentsOf: file) + Data(" ".utf8)).write(to: file)
        },
        snapshot("truncated JSON", mentions: ["users.json", "not valid JSON", "line"], reseal: "users.json") { url in
            let file = url.appendingPathComponent("users.json")
            try Data(try Data(contentsOf: file).prefix(700)).write(to: file)
        },
        snapshot("nesting 100,000 deep", mentions: ["users.json", "nesting deeper"], reseal: "users.json") { url in
            try Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8).write(
                to: url.appendingPathComponent("users.json"))
        },
        snapshot("not a list", mentions: ["users.json", "expected a JSON array"], reseal: "users.json") { url in
            try Data(#"{"users": 1}"#.utf8).write(to: url.appendingPathComponent("users.json"))
        },
        snapshot("element not an object", mentions: ["users.json", "value[0]", "not a JSON object"], reseal: "users.json") { url in
            try Data(#"{"value": [42]}"#.utf8).write(to: url.appendingPathComponent("users.json"))
        },
        snapshot("missing user principal name", mentions: ["users.json", "value[0]", "userPrincipalName"], reseal: "users.json") { url in
            try Data(#"{"value": [{"id": "7f47cc86-2103-433e-83b4-85c281607aa6", "displayName": "No UPN"}]}"#.utf8).write(
                to: url.appendingPathComponent("users.json"))
        },
        snapshot("count mismatch", mentions: ["users.json", "manifest says"]) { url in
            let file = url.appendingPathComponent("manifest.json")
            var manifest = try JSONCoding.decode(SnapshotManifest.self, from: Data(contentsOf: file))
            manifest.files["users.json"]?.count = 999
            try JSONCoding.encodePretty(manifest).write(to: file)
        },
        snapshot("format version 2", mentions: ["manifest.json", "formatVersion"]) { url in
            let file = url.appendingPathComponent("manifest.json")
            var manifest = try JSONCoding.decode(SnapshotManifest.self, from: Data(contentsOf: file))
            manifest.formatVersion = 2
            try JSONCoding.encodePretty(manifest).write(to: file)
        },
        snapshot("unlisted collection present", mentions: ["devices.json"]) { url in
            let file = url.appendingPathComponent("manifest.json")
            var manifest = try JSONCoding.decode(SnapshotManifest.self, from: Data(contentsOf: file))
            manifest.files["devices.json"] = .init(sha256: "00", count: 0)
            try JSONCoding.encodePretty(manifest).write(to: file)
        },
        snapshot("listed file missing", mentions: ["namedLocations.json", "missing"]) { url in
            try FileManager.default.removeItem(at: url.appendingPathComponent("namedLocations.json"))
        },
        snapshot("data file is a FIFO", mentions: ["namedLocations.json", "FIFO"]) { url in
            try FileManager.default.removeItem(at: url.appendingPathComponent("namedLocations.json"))
            guard mkfifo(url.appendingPathComponent("namedLocations.json").path, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
        },
        snapshot("data file links to /dev/zero", mentions: ["namedLocations.json", "character device"]) { url in
            try FileManager.default.removeItem(at: url.appendingPathComponent("namedLocations.json"))
            try FileManager.default.createSymbolicLink(
                atPath: url.appendingPathComponent("namedLocations.json").path, withDestinationPath: "/dev/zero")
        },
        snapshot("data file is a directory", mentions: ["namedLocations.json", "directory"]) { url in
            try FileManager.default.removeItem(at: url.appendingPathComponent("namedLocations.json"))
            try FileManager.default.createDirectory(
                at: url.appendingPathComponent("namedLocations.json"), withIntermediateDirectories: false)
        },
        snapshot("manifest is a directory", mentions: ["manifest.json", "directory"]) { url in
            try FileManager.default.removeItem(at: url.appendingPathComponent("manifest.json"))
            try FileManager.default.createDirectory(at: url.appendingPathComponent("manifest.json"), withIntermediateDirectories: false)
        },
        snapshot("manifest not JSON", mentions: ["manifest.json", "not a valid manifest"]) { url in
            try Data("<xml/>".utf8).write(to: url.appendingPathComponent("manifest.json"))
        },
        snapshot(
            "control character in a string", mentions: ["users.json", "control character"], reseal: "users.json",
            edit("users.json", "Amelia Hart", "Amelia\u{01}Hart")),
    ]

    /// A PowerShell CSV export with one file replaced.
    static func powershell(_ name: String, file: String, _ text: String, mentions: [String]) -> HostileCase {
        HostileCase(door: .powershellCSV, name: name, mentions: mentions) { directory in
            let input = directory.url.appendingPathComponent("export")
            try ImportFixtures.writePowerShell(into: input, replacing: [file: text])
            return ["snapshot", "import", "--from", "powershell-csv", input.path, "--out", "out"]
        }
    }

    static let usersHeader = "\"ObjectId\",\"DisplayName\",\"UserPrincipalName\",\"AccountEnabled\"\n"
    static let imports: [HostileCase] = [
        powershell(
            "unbalanced quote", file: "AzureADUsers.csv",
            usersHeader + "\"11111111-0000-4000-8000-000000000001\",\"Open,\"bg@contoso.com\",\"True\"\n",
            mentions: ["AzureADUsers.csv:", "quote"]),
        powershell(
            "field count", file: "AzureADUsers.csv", usersHeader + "\"11111111-0000-4000-8000-000000000001\",\"A\",\"a@contoso.com\"\n",
            mentions: ["AzureADUsers.csv:2", "fields"]),
        powershell(
            "not a boolean", file: "AzureADUsers.csv",
            usersHeader + "\"11111111-0000-4000-8000-000000000001\",\"A\",\"a@contoso.com\",\"maybe\"\n",
            mentions: ["AzureADUsers.csv:2", "AccountEnabled", "True or False"]),
        powershell("empty users file", file: "AzureADUsers.csv", "", mentions: ["AzureADUsers.csv", "empty"]),
        powershell(
            "duplicate column", file: "AzureADUsers.csv", "\"ObjectId\",\"ObjectId\"\n\"a\",\"b\"\n",
            mentions: ["AzureADUsers.csv:1", "twice"]),
        powershell(
            "empty column name", file: "AzureADUsers.csv", "\"ObjectId\",\"\"\n\"a\",\"b\"\n",
            mentions: ["AzureADUsers.csv:1", "empty column name"]),
        powershell(
            "object id path traversal", file: "AzureADUsers.csv", usersHeader + "\"../../beta/users/x\",\"A\",\"a@contoso.com\",\"True\"\n",
            mentions: ["users.json", "value[", "not a GUID"]),
        powershell(
            "group type not parsable", file: "groups.csv",
            "\"Id\",\"DisplayName\",\"MailEnabled\",\"MailNickname\",\"SecurityEnabled\"\n\"22222222-0000-4000-8000-000000000001\",\"G\",\"perhaps\",\"g\",\"True\"\n",
            mentions: ["groups.csv:2", "MailEnabled"]),
        HostileCase(door: .powershellCSV, name: "users file links outside", mentions: ["AzureADUsers.csv", "leads outside the export"]) {
            directory in
            let input = directory.url.appendingPathComponent("export")
            try ImportFixtures.writePowerShell(into: input)
            try FileManager.default.removeItem(at: input.appendingPathComponent("AzureADUsers.csv"))
            try FileManager.default.createSymbolicLink(
                atPath: input.appendingPathComponent("AzureADUsers.csv").path, withDestinationPath: "/etc/passwd")
            return ["snapshot", "import", "--from", "powershell-csv", input.path, "--out", "out"]
        },
        HostileCase(door: .powershellCSV, name: "users file is a FIFO", mentions: ["AzureADUsers.csv", "FIFO"]) { directory in
            let input = directory.url.appendingPathComponent("export")
            try ImportFixtures.writePowerShell(into: input)
            try FileManager.default.removeItem(at: input.appendingPathComponent("AzureADUsers.csv"))
            _ = mkfifo(input.appendingPathComponent("AzureADUsers.csv").path, 0o600)
            return ["snapshot", "import", "--from", "powershell-csv", input.path, "--out", "out"]
        },
        HostileCase(door: .powershellCSV, name: "export is a file", mentions: ["not a directory"]) { directory in
            try Data("x".utf8).write(to: directory.url.appendingPathComponent("export"))
            return ["snapshot", "import", "--from", "powershell-csv", directory.path("export"), "--out", "out"]
        },
        entra(
            "bad JSON",
            { input in
                try Data("{\"id\": ".utf8).write(
                    to: input.appendingPathComponent("Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json"))
            }, mentions: ["Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json:", "not valid JSON"]),
        entra(
            "duplicate property",
            { input in
                try Data(
                    #"{"id": "\#(ImportFixtures.IDs.bob)", "id": "\#(ImportFixtures.IDs.alice)", "userPrincipalName": "b@contoso.com", "displayName": "B"}"#
                        .utf8
                )
                .write(to: input.appendingPathComponent("Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json"))
            }, mentions: ["Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json:1", "duplicate property"]),
        entra(
            "missing UPN",
            { input in
                try Data(#"{"id": "\#(ImportFixtures.IDs.bob)", "displayName": "B"}"#.utf8)
                    .write(to: input.appendingPathComponent("Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json"))
            }, mentions: ["Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json", "userPrincipalName"]),
        entra(
            "Users links to /etc",
            { input in
                try FileManager.default.removeItem(at: input.appendingPathComponent("Users"))
                try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("Users").path, withDestinationPath: "/etc")
            }, mentions: ["Users", "leads outside the export"]),
        entra(
            "a link to the root",
            { input in
                try FileManager.default.createSymbolicLink(
                    atPath: input.appendingPathComponent("Groups/all").path, withDestinationPath: "/")
            }, mentions: ["Groups/all", "leads outside the export"]),
        entra(
            "user id path traversal",
            { input in
                try Data(#"{"id": "../../beta/users/x", "userPrincipalName": "b@contoso.com", "displayName": "B"}"#.utf8)
                    .write(to: input.appendingPathComponent("Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json"))
            }, mentions: ["users.json", "not a GUID"]),
        entra(
            "user file links to /dev/zero",
            { input in
                let file = input.appendingPathComponent("Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json")
                try FileManager.default.removeItem(at: file)
                try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "/dev/zero")
            }, mentions: ["Users/\(ImportFixtures.IDs.bob)/\(ImportFixtures.IDs.bob).json", "leads outside the export"]),
    ]

    static func entra(_ name: String, _ alter: @escaping @Sendable (URL) throws -> Void, mentions: [String]) -> HostileCase {
        HostileCase(door: .entraExporter, name: name, mentions: mentions) { directory in
            let input = directory.url.appendingPathComponent("export")
            try ImportFixtures.writeEntraExporter(into: input)
            try alter(input)
            return ["snapshot", "import", "--from", "entra-exporter", input.path, "--out", "out"]
        }
    }

    /// A state database built by `make`, read by `command`.
    static func state(
        _ name: String, _ command: [String], exit: Int32 = 2, mentions: [String], _ make: @escaping @Sendable (String) throws -> Void
    ) -> HostileCase {
        HostileCase(door: .state, name: "\(name) (\(command.joined(separator: " ")))", exit: exit, mentions: mentions) { directory in
            let path = directory.path("state.sqlite")
            try make(path)
            return command + ["--state", path]
        }
    }

    static let foreign: @Sendable (String) throws -> Void = { path in
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode=DELETE; CREATE TABLE meta(k, v); CREATE TABLE other(x);")
    }
    static let states: [HostileCase] = [["status"], ["report"], ["idmap"], ["resume"]].flatMap { command in
        [
            state("foreign SQLite", command, mentions: ["state.sqlite", "not a Lifeboat checkpoint"], foreign),
            state("text file", command, mentions: ["state.sqlite", "not a SQLite database"]) {
                try Data("hello\n".utf8).write(to: URL(fileURLWithPath: $0))
            },
            state("SQLite header then garbage", command, mentions: ["state.sqlite", "not a Lifeboat checkpoint"]) {
                try (Data("SQLite format 3\u{0}".utf8) + Data(repeating: 0xAB, count: 4096)).write(to: URL(fileURLWithPath: $0))
            },
            state("newer schema", command, mentions: ["state.sqlite", "schema 99"]) { path in
                let db = try SQLiteConnection(path: path)
                try db.execute(
                    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); CREATE TABLE run(id TEXT); INSERT INTO meta VALUES ('schemaVersion', '99');"
                )
            },
        ]
    }

    static let commandLine: [HostileCase] = [
        cli(
            "concurrency 0",
            ["tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite", "--concurrency", "0"], exit: 64,
            mentions: ["--concurrency"]),
        cli(
            "concurrency huge",
            [
                "tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite", "--concurrency",
                "99999999999999999999",
            ], exit: 64, mentions: ["concurrency"]),
        cli(
            "estimated RTO inf", ["readiness", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--estimated-rto", "inf"],
            exit: 64, mentions: ["--estimated-rto"]),
        cli(
            "estimated RTO 1e300", ["readiness", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--estimated-rto", "1e300"],
            exit: 64, mentions: ["--estimated-rto"]),
        cli(
            "report format",
            ["tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite", "--report", "r.pdf"], exit: 64,
            mentions: ["--report"]),
        cli(
            "scale 1e9x",
            ["tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite", "--scale", "1000000000x"],
            exit: 64, mentions: ["--scale"]),
        cli(
            "apps 0", ["tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite", "--apps", "0"],
            exit: 64, mentions: ["--apps"]),
        cli(
            "plain http to another host",
            [
                "tabletop", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite",
                "--graph-url", "http://example.com/v1.0", "--tenant", "t",
            ], exit: 64, mentions: ["--graph-url"]),
        cli(
            "rebuild over plain http to another host",
            [
                "rebuild", "--runbook", runbook, "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite",
                "--graph-url", "http://graph.example.com/v1.0", "--tenant", "t", "--client-id", "c",
                "--client-secret-file", "nope",
            ], exit: 2, mentions: ["http://graph.example.com/v1.0", "loopback"]),
        cli(
            "snapshot is /dev/zero", ["tabletop", "--runbook", runbook, "--snapshot", "/dev/zero", "--state", "s.sqlite"],
            mentions: ["/dev/zero", "character device"]),
        cli(
            "runbook is /dev/zero", ["tabletop", "--runbook", "/dev/zero", "--snapshot", Fixtures.contoso.path, "--state", "s.sqlite"],
            mentions: ["/dev/zero", "character device"]),
        cli(
            "runbook is a directory",
            [
                "tabletop", "--runbook", Fixtures.repositoryRoot.appendingPathComponent("Runbooks").path, "--snapshot",
                Fixtures.contoso.path,
                "--state", "s.sqlite",
            ], mentions: ["Runbooks", "directory"]),
        cli("verify a FIFO-free path that is a file", ["snapshot", "verify", runbook], mentions: ["manifest.json"]),
    ]

    static func cli(_ name: String, _ arguments: [String], exit: Int32 = 2, mentions: [String]) -> HostileCase {
        HostileCase(door: .commandLine, name: name, exit: exit, mentions: mentions) { _ in arguments }
    }

    static var all: [HostileCase] {
        fromFixtures("runbooks", .runbook) + fromFixtures("scenarios", .scenario) + snapshots + imports + states + commandLine
    }
}

@Suite struct HostileInputTests {
    @Test func thereAreAtLeastAHundredCases() {
        let all = HostileCase.all
        print(
            "hostile inputs: \(all.count) (\(Dictionary(grouping: all, by: \.door.rawValue).mapValues(\.count).sorted { $0.key < $1.key }))"
        )
        #expect(all.count >= 100)
    }

    @Test(arguments: HostileCase.all)
    func refusedWithFileAndPlaceAndNothingWritten(_ hostile: HostileCase) async throws {
        let directory = try TemporaryDirectory("hostile")
        let arguments = try hostile.arrange(directory)
        let stateBefore = try? Data(contentsOf: URL(fileURLWithPath: directory.path("state.sqlite")))
        let result = try await runLifeboat(arguments, in: directory)
        #expect(!result.killedBySignal, "trapped with signal \(result.status): \(result.stderr)")
        #expect(result.status == hostile.exit, "exit \(result.status): \(result.stderr)")
        for text in hostile.mentions {
            #expect(result.stderr.contains(text), "the message does not name \(text): \(result.stderr)")
        }
        #expect(!result.stderr.contains("Fatal error"))
        // Nothing reached a target: no fake tenant, no import output, the state database unchanged.
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!written.contains { $0.hasSuffix(".fake-tenant.sqlite") }, "\(written)")
        #expect(!written.contains("out"), "\(written)")
        if let stateBefore {
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("state.sqlite"))) == stateBefore)
        }
    }
}
