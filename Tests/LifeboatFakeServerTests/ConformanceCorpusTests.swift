import Foundation
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// The conformance corpus: every HTTP request example of Microsoft's v1.0 API pages in `../shared/graph/docs`
/// (the operations Lifeboat uses), replayed against the served fake with its ids rewritten to objects that exist,
/// expecting the status the page documents. Examples the fake knowingly does not support are listed, with the reason,
/// in `conformance-unsupported.txt` next to this file. The pages are read at run time and never copied here.
@Suite struct ConformanceCorpusTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let pages = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/graph/docs/api-reference/v1.0/api")

    /// One request example and the status its page documents.
    struct Example {
        var page: String
        var name: String
        var method: String
        var url: String
        var headers: [String: String]
        var body: String?
        var status: Int
        var key: String { "\(page)#\(name)" }
    }

    /// The request/response example pairs of a page (`<!-- { "blockType": "request", "name": … } -->` then an http block).
    static func examples(page: String, text: String) -> [Example] {
        var found: [Example] = []
        var pending: (name: String, lines: [String])?
        let lines = text.components(separatedBy: "\n")
        var index = 0
        func block(after start: Int) -> (lines: [String], end: Int)? {
            var cursor = start
            // Request fences are ```http, ``` http or ```msgraph-interactive (Graph Explorer's GET examples).
            func opens(_ line: String) -> Bool {
                let fence = line.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "")
                return fence.hasPrefix("```http") || fence.hasPrefix("```msgraph-interactive")
            }
            while cursor < lines.count, !opens(lines[cursor]) {
                if lines[cursor].contains("blockType") { return nil }
                cursor += 1
            }
            guard cursor < lines.count else { return nil }
            var body: [String] = []
            cursor += 1
            while cursor < lines.count, !lines[cursor].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                body.append(lines[cursor])
                cursor += 1
            }
            return (body, cursor)
        }
        while index < lines.count {
            let line = lines[index]
            if line.contains("\"blockType\"") {
                // The comment may span lines: gather it up to "-->".
                var comment = line, end = index
                while !comment.contains("-->"), end + 1 < lines.count {
                    end += 1
                    comment += lines[end]
                }
                if comment.contains("\"request\""), let http = block(after: end + 1) {
                    let name =
                        comment.range(of: #""name":\s*"([^"]+)""#, options: .regularExpression).map { String(comment[$0]) }?
                        .split(separator: "\"").dropFirst(2).first.map(String.init) ?? "example\(found.count + 1)"
                    pending = (name, http.lines)
                    index = http.end
                } else if comment.contains("\"response\""), let http = block(after: end + 1), let request = pending {
                    pending = nil
                    let statusLine = http.lines.first { $0.hasPrefix("HTTP/") } ?? ""
                    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
                    if let example = parse(page: page, name: request.name, lines: request.lines, status: status) { found.append(example) }
                    index = http.end
                } else {
                    index = end
                }
            }
            index += 1
        }
        return found
    }

    static func parse(page: String, name: String, lines: [String], status: Int) -> Example? {
        var remaining = lines.drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let first = remaining.first else { return nil }
        remaining = remaining.dropFirst()
        let parts = first.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        var headers: [String: String] = [:]
        while let line = remaining.first, !line.trimmingCharacters(in: .whitespaces).isEmpty {
            remaining = remaining.dropFirst()
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].trimmingCharacters(in: .whitespaces)] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
        }
        let body = remaining.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return Example(
            page: page, name: name, method: String(parts[0]).uppercased(), url: String(parts[1]).trimmingCharacters(in: .whitespaces),
            headers: headers, body: body.isEmpty ? nil : body, status: status)
    }

    /// `page#example-name<TAB>reason` lines; `#` starts a comment line.
    static func unsupported() throws -> [String: String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("conformance-unsupported.txt")
        var reasons: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let fields = trimmed.split(separator: "\t", maxSplits: 1)
            reasons[String(fields[0]).trimmingCharacters(in: .whitespaces)] = fields.count > 1 ? String(fields[1]) : "no reason given"
        }
        return reasons
    }

    /// Objects an example's ids are rewritten to, made fresh for each example.
    struct Fixture {
        var user: JSONObject, members: [String], group: String, application: JSONObject, servicePrincipal: String, unit: String,
            policy: String, deletedUser: String, domain: String, sku: String
        /// An application without a service principal (for examples that create one).
        var spareAppId: String
        /// Unique per example: names that must not collide with another example's objects.
        var tag: String
    }

    @Test func referencePageExamplesReplayWithTheirDocumentedStatus() async throws {
        guard FileManager.default.fileExists(atPath: Self.pages.path) else {
            print("ConformanceCorpusTests: skipped, \(Self.pages.path) is absent (Microsoft's reference pages live in ../shared)")
            return
        }
        let reasons = try Self.unsupported()
        var examples: [Example] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.pages.path).sorted() where file.hasSuffix(".md") {
            let text = try String(contentsOf: Self.pages.appendingPathComponent(file), encoding: .utf8)
            examples += Self.examples(page: file, text: text)
        }
        #expect(examples.count > 50, "the parser found only \(examples.count) examples")

        let served = try await ServedTenant.start()
        // The examples' users live on contoso.com / contoso.onmicrosoft.com: verified here, as in Microsoft's example tenant.
        try await served.tenant.addDomain("contoso.com", verified: true)
        try await served.tenant.addDomain("contoso.onmicrosoft.com", verified: true)
        let token = try await served.bearer()
        var replayed = 0, passed = 0
        var failures: [String] = []
        for (number, example) in examples.enumerated() {
            if reasons[example.key] != nil { continue }
            let fixture = try await Self.fixture(served, token: token, number: number)
            let (url, body) = Self.rewrite(example, fixture: fixture, served: served)
            var headers = example.headers.filter { ["consistencylevel", "prefer"].contains($0.key.lowercased()) }
            headers["Authorization"] = "Bearer \(token)"
            if body != nil { headers["Content-Type"] = "application/json" }
            let answer = try await served.send(example.method, url, headers: headers, body: body.map { Data($0.utf8) })
            replayed += 1
            if answer.status == example.status {
                passed += 1
            } else {
                failures.append(
                    "\(example.key): \(example.method) \(url) → \(answer.status), documented \(example.status): "
                        + ((try? JSONCoding.decode(answer.body))?["error"]?["message"]?.stringValue ?? ""))
            }
        }
        await served.stop()
        for failure in failures { print("conformance: \(failure)") }
        print(
            "Conformance corpus: \(replayed) of \(examples.count) replayed, " + (failures.isEmpty ? "pass" : "\(failures.count) fail")
                + " (\(reasons.count) listed in conformance-unsupported.txt)")
        let keys = Set(examples.map(\.key))
        #expect(reasons.keys.filter { !keys.contains($0) }.isEmpty, "conformance-unsupported.txt lists examples the pages no longer have")
        #expect(failures.isEmpty, "\(failures.count) examples answered a status their page does not document")
        #expect(replayed + reasons.count >= examples.count)
    }

    static func fixture(_ served: ServedTenant, token: String, number: Int) async throws -> Fixture {
        func create(_ path: String, _ body: JSONValue) async throws -> JSONObject {
            let answer = try await served.graph("POST", path, token: token, body: body)
            guard answer.status == 201, let object = answer.json?.objectValue else {
                throw FakeServerError("fixture \(path) answered \(answer.status): \(String(decoding: answer.raw, as: UTF8.self))")
            }
            return object
        }
        func user(_ name: String) async throws -> JSONObject {
            try await create(
                "/users",
                [
                    "accountEnabled": true, "displayName": .string(name), "mailNickname": .string(name),
                    "userPrincipalName": .string("\(name)@served.onmicrosoft.com"), "usageLocation": "US",
                    "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
                ])
        }
        let tag = "c\(number)"
        let main = try await user("\(tag)-main")
        var members: [String] = []
        for index in 0..<3 { members.append(try await user("\(tag)-m\(index)")["id"]!.stringValue!) }
        let group = try await create(
            "/groups",
            [
                "displayName": .string("\(tag) group"), "mailEnabled": false, "mailNickname": .string("\(tag)g"),
                "securityEnabled": true, "uniqueName": .string("\(tag)-existing"),
            ])
        let application = try await create(
            "/applications", ["displayName": .string("\(tag) app"), "uniqueName": .string("\(tag)-existing")])
        let principal = try await create("/servicePrincipals", ["appId": application["appId"]!])
        let unit = try await create("/directory/administrativeUnits", ["displayName": .string("\(tag) unit")])
        let policy = try await create(
            "/identity/conditionalAccess/policies",
            [
                "displayName": .string("\(tag) policy"), "state": "disabled",
                "conditions": ["users": ["includeUsers": ["All"]], "applications": ["includeApplications": ["All"]]],
                "grantControls": ["operator": "OR", "builtInControls": ["mfa"]],
            ])
        let deleted = try await user("\(tag)-gone")["id"]!.stringValue!
        _ = try await served.graph("DELETE", "/users/\(deleted)", token: token)
        let domain = "\(tag).contoso.com"
        _ = try await create("/domains", ["id": .string(domain)])
        _ = try await served.send(
            "POST", "\(served.base)/_lifeboat/dns", headers: ["Content-Type": "application/json"],
            body: Data(#"{"domain": "\#(domain)"}"#.utf8))
        let skus = try await served.graph("GET", "/subscribedSkus", token: token).json?["value"]?.arrayValue ?? []
        let spare = try await create("/applications", ["displayName": .string("\(tag) spare")])
        return Fixture(
            user: main, members: members, group: group["id"]!.stringValue!, application: application,
            servicePrincipal: principal["id"]!.stringValue!, unit: unit["id"]!.stringValue!, policy: policy["id"]!.stringValue!,
            deletedUser: deleted, domain: domain, sku: skus.first?["id"]?.stringValue ?? "", spareAppId: spare["appId"]!.stringValue!,
            tag: tag)
    }

    /// The example's URL on the served fake with each id after a collection replaced by a fixture object's, and
    /// `directoryObjects/{…}` references in the body replaced by distinct fixture users.
    static func rewrite(_ example: Example, fixture: Fixture, served: ServedTenant) -> (String, String?) {
        var url = example.url
        for prefix in ["https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/beta"] where url.hasPrefix(prefix) {
            url = String(url.dropFirst(prefix.count))
        }
        let pathEnd = url.firstIndex(of: "?") ?? url.endIndex
        var segments = url[..<pathEnd].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let ids: [String: String] = [
            "users": fixture.user["id"]!.stringValue!, "groups": fixture.group, "applications": fixture.application["id"]!.stringValue!,
            "servicePrincipals": fixture.servicePrincipal, "administrativeUnits": fixture.unit, "policies": fixture.policy,
            "deletedItems": fixture.deletedUser, "domains": fixture.domain, "directoryObjects": fixture.user["id"]!.stringValue!,
            "subscribedSkus": fixture.sku, "organization": served.tenant.tenantID, "members": fixture.members[0],
        ]
        for index in segments.indices.dropFirst() {
            let previous = segments[index - 1], segment = segments[index]
            guard let id = ids[previous], !segment.isEmpty, !segment.hasPrefix("$"), segment != "delta",
                !segment.contains(".") || previous == "domains" || segment.contains("@")
            else { continue }
            // A placeholder, a GUID or a UPN stands for an object; names like `members` or `verify` do not.
            let looksLikeID =
                segment.hasPrefix("{") || UUID(uuidString: segment) != nil || segment.contains("@") || segment.contains("%40")
                || previous == "domains" || previous == "subscribedSkus"
            if looksLikeID { segments[index] = id }
        }
        // `applications(appId='…')`, `servicePrincipals(appId='…')`: the fixture application's appId.
        let appId = fixture.application["appId"]!.stringValue!
        segments = segments.map { segment in
            segment.hasPrefix("applications(appId=")
                ? "applications(appId='\(appId)')"
                // An upsert that updates (204) names the fixture's object; one that creates (201) a new name.
                : segment.hasPrefix("groups(uniqueName=") || segment.hasPrefix("applications(uniqueName=")
                    ? String(segment.prefix { $0 != "(" })
                        + (example.status == 204
                            ? "(uniqueName='\(fixture.tag)-existing')"
                            : "(uniqueName='\(fixture.tag)-new')")
                    : segment.hasPrefix("servicePrincipals(appId=")
                        ? "servicePrincipals(appId='\(example.status == 201 ? fixture.spareAppId : appId)')" : segment
        }
        url = "\(served.base)/v1.0" + segments.joined(separator: "/") + url[pathEnd...]
        url = url.replacingOccurrences(of: " ", with: "%20").replacingOccurrences(of: "'", with: "%27")
        guard var body = example.body else { return (url, nil) }
        // References: `…/v1.0/directoryObjects/{x}` and `…/v1.0/users/{x}` each a different fixture user, `…/v1.0/groups/{x}` the group.
        var next = 0
        while let range = body.range(of: #"v1\.0/(directoryObjects|users)/[^"]+"#, options: .regularExpression) {
            body.replaceSubrange(range, with: "v1.0/directoryObjects\u{1F}/" + fixture.members[next % fixture.members.count])
            next += 1
        }
        while let range = body.range(of: #"v1\.0/groups/[^"]+"#, options: .regularExpression) {
            body.replaceSubrange(range, with: "v1.0/groups\u{1F}/" + fixture.group)
        }
        body = body.replacingOccurrences(of: "\u{1F}/", with: "/")
            .replacingOccurrences(of: "https://graph.microsoft.com/v1.0", with: "\(served.base)/v1.0")
        // A domain added by an example is new to the tenant.
        if example.method == "POST", example.url.hasSuffix("/domains"),
            let range = body.range(of: #""id"\s*:\s*"[^"]+""#, options: .regularExpression)
        {
            body.replaceSubrange(range, with: "\"id\": \"new.\(fixture.domain)\"")
        }
        // A service principal created by an example is for the fixture application that has none yet.
        if example.method == "POST", example.url.hasSuffix("/servicePrincipals"),
            let range = body.range(of: #""appId"\s*:\s*"[^"]+""#, options: .regularExpression)
        {
            body.replaceSubrange(range, with: "\"appId\": \"\(fixture.spareAppId)\"")
        }
        return (url, body)
    }
}
