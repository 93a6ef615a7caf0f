import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot

/// Paths of the repository's own files (examples, runbooks) and the built `lifeboat` binary.
package enum Fixtures {
    /// The repository root, found from this source file.
    package static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Examples/contoso`.
    package static var contoso: URL { repositoryRoot.appendingPathComponent("Examples/contoso") }

    /// The Contoso example's runbook parameters (`Examples/contoso/parameters.yaml`: its operator and break-glass
    /// accounts), for tests that load a shipped runbook without the CLI (which reads that file itself).
    package static var contosoParameters: [String: String] {
        let text = (try? String(contentsOf: contoso.appendingPathComponent("parameters.yaml"), encoding: .utf8)) ?? ""
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    /// A file under `Runbooks/`.
    package static func runbook(_ name: String) -> URL { repositoryRoot.appendingPathComponent("Runbooks/\(name)") }

    /// Copies the Contoso example into `directory/name` so a test may alter it.
    package static func copyContoso(into directory: TemporaryDirectory, as name: String = "snapshot") throws -> URL {
        let target = directory.url.appendingPathComponent(name)
        try FileManager.default.copyItem(at: contoso, to: target)
        return target
    }

    /// Rewrites a snapshot file and re-seals the manifest, as a capture would have written it.
    package static func rewrite(_ file: String, in snapshot: URL, _ transform: (Data) -> Data) throws {
        let url = snapshot.appendingPathComponent(file)
        try transform(try Data(contentsOf: url)).write(to: url)
        var manifest = try JSONCoding.decode(
            SnapshotManifest.self, from: Data(contentsOf: snapshot.appendingPathComponent("manifest.json")))
        manifest.files[file]?.sha256 = Snapshot.sha256Hex(try Data(contentsOf: url))
        manifest.files[file]?.count = nil
        try JSONCoding.encodePretty(manifest).write(to: snapshot.appendingPathComponent("manifest.json"))
    }

    /// The `lifeboat` executable built next to the test bundle.
    package static var lifeboatBinary: URL {
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lifeboat")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return repositoryRoot.appendingPathComponent(".build/debug/lifeboat")
    }
}

/// What a `lifeboat` process did.
package struct ProcessResult: Sendable {
    /// The exit code, or the signal number when `killedBySignal`.
    package var status: Int32
    package var killedBySignal: Bool
    package var stdout: String
    package var stderr: String
}

/// Runs the `lifeboat` binary as a child process (output captured through files, never a full pipe); `input`, when
/// given, is its standard input (otherwise /dev/null). With `interruptWhenOutputContains`, the process gets one
/// SIGINT (an operator's Ctrl-C) as soon as its output shows that text. `executable` runs another copy of the binary.
package func runLifeboat(
    _ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:],
    input: String? = nil, interruptWhenOutputContains trigger: String? = nil,
    executable: URL = Fixtures.lifeboatBinary
) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory.url
    process.environment = childEnvironment(environment, in: directory)
    let tag = UUID().uuidString.prefix(8)
    let outURL = directory.url.appendingPathComponent("stdout-\(tag)"), errURL = directory.url.appendingPathComponent("stderr-\(tag)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    if let input {
        let inURL = directory.url.appendingPathComponent("stdin-\(tag)")
        try Data(input.utf8).write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
        if let trigger {
            let pid = process.processIdentifier
            Task.detached {
                for _ in 0..<1_200 {
                    let seen = [outURL, errURL].contains { (try? String(contentsOf: $0, encoding: .utf8))?.contains(trigger) == true }
                    if seen {
                        kill(pid, SIGINT)
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(25))
                }
            }
        }
    }
    try out.close()
    try err.close()
    return ProcessResult(
        status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
        stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// A comparable picture of a fake tenant: objects by natural key and relationships by natural keys,
/// so runs with different new ids can be compared.
package struct TenantPicture: Equatable, Sendable, CustomStringConvertible {
    package var users: [String: Int]
    package var groups: [String: Int]
    /// `group uniqueName` → sorted member natural keys.
    package var members: [String: [String]]
    package var owners: [String: [String]]
    /// Other restored types: type → natural key → count.
    package var others: [String: [String: Int]] = [:]

    package static func of(_ tenant: FakeTenant) async -> TenantPicture {
        let users = await tenant.objects(ofType: "user")
        let groups = await tenant.objects(ofType: "group")
        var keyByID: [String: String] = [:]
        var userCounts: [String: Int] = [:], groupCounts: [String: Int] = [:]
        for user in users {
            let key = "user:" + (user["userPrincipalName"]?.stringValue?.lowercased() ?? "?")
            keyByID[user["id"]?.stringValue ?? ""] = key
            userCounts[key, default: 0] += 1
        }
        for group in groups {
            let key = "group:" + (group["uniqueName"]?.stringValue ?? group["displayName"]?.stringValue ?? "?")
            keyByID[group["id"]?.stringValue ?? ""] = key
            groupCounts[key, default: 0] += 1
        }
        // Service principals (members of groups once restored) by display name: their ids and appIds change from run to run.
        for principal in await tenant.objects(ofType: "servicePrincipal") {
            keyByID[principal["id"]?.stringValue ?? ""] = "servicePrincipal:" + (principal["displayName"]?.stringValue ?? "?")
        }
        var members: [String: [String]] = [:], owners: [String: [String]] = [:]
        for group in groups {
            guard let id = group["id"]?.stringValue, let key = keyByID[id] else { continue }
            let m = await tenant.relationship("members", of: id).map { keyByID[$0] ?? $0 }.sorted()
            let o = await tenant.relationship("owners", of: id).map { keyByID[$0] ?? $0 }.sorted()
            if !m.isEmpty { members[key] = m }
            if !o.isEmpty { owners[key] = o }
        }
        var others: [String: [String: Int]] = [:]
        for type in ["administrativeUnit", "namedLocation", "conditionalAccessPolicy", "unifiedRoleDefinition", "domain", "application"] {
            for object in await tenant.objects(ofType: type) {
                let key = object["displayName"]?.stringValue ?? object["id"]?.stringValue ?? "?"
                keyByID[object["id"]?.stringValue ?? ""] = "\(type):\(key)"
                others[type, default: [:]][key, default: 0] += 1
            }
        }
        for type in ["unifiedRoleAssignment", "oauth2PermissionGrant", "appRoleAssignment"] {
            for object in await tenant.objects(ofType: type) {
                let parts = ["roleDefinitionId", "principalId", "directoryScopeId", "clientId", "resourceId", "appRoleId", "consentType"]
                    .compactMap { name in
                        object[name]?.stringValue.map { value in
                            // Scopes are paths ending in an id: compare them by the scoped object's natural key.
                            value.split(separator: "/").map { keyByID[String($0)] ?? String($0) }.joined(separator: "/")
                        }
                    }
                others[type, default: [:]][parts.joined(separator: "|"), default: 0] += 1
            }
        }
        for user in users {
            guard let id = user["id"]?.stringValue, let manager = await tenant.relationship("manager", of: id).first else { continue }
            others["manager", default: [:]]["\(keyByID[id] ?? id)→\(keyByID[manager] ?? manager)", default: 0] += 1
        }
        return TenantPicture(users: userCounts, groups: groupCounts, members: members, owners: owners, others: others)
    }

    /// Natural keys that occur more than once.
    package var duplicates: [String] {
        (users.filter { $0.value > 1 }.map(\.key) + groups.filter { $0.value > 1 }.map(\.key)
            + others.flatMap { type, counts in counts.filter { $0.value > 1 }.map { "\(type):\($0.key)" } }).sorted()
    }

    /// What differs from another picture, for failure messages.
    package func differences(from other: TenantPicture) -> [String] {
        var lines: [String] = []
        if users != other.users { lines.append("users differ") }
        if groups != other.groups { lines.append("groups differ") }
        for (key, value) in members where other.members[key] != value {
            lines.append("members of \(key): \(value.count) vs \(other.members[key]?.count ?? 0)")
        }
        for (key, value) in owners where other.owners[key] != value { lines.append("owners of \(key) differ") }
        for type in Set(others.keys).union(other.others.keys) where others[type] != other.others[type] {
            let mine = others[type] ?? [:], theirs = other.others[type] ?? [:]
            for key in Set(mine.keys).union(theirs.keys) where mine[key] != theirs[key] {
                lines.append("\(type) \(key): \(mine[key] ?? 0) vs \(theirs[key] ?? 0)")
            }
        }
        return lines
    }

    package var description: String {
        "\(users.count) users, \(groups.count) groups, \(members.values.map(\.count).reduce(0, +)) memberships, \(owners.values.map(\.count).reduce(0, +)) owners"
    }
}

/// `lifeboat tabletop --runbook … --snapshot … --state <state>` and `extra`: the CLI drill, by default of the first
/// shipped rebuild and the Contoso example (paths as the command takes them).
package func runTabletop(
    state: String, in directory: TemporaryDirectory, runbook: String = Fixtures.runbook("rebuild-new-tenant.yaml").path,
    snapshot: String = Fixtures.contoso.path, _ extra: [String] = [], environment: [String: String] = [:],
    input: String? = nil, interruptWhenOutputContains trigger: String? = nil,
    executable: URL = Fixtures.lifeboatBinary
) async throws -> ProcessResult {
    try await runLifeboat(
        ["tabletop", "--runbook", runbook, "--snapshot", snapshot, "--state", state] + extra, in: directory,
        environment: environment, input: input, interruptWhenOutputContains: trigger, executable: executable)
}
