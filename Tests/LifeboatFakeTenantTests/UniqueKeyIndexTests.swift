import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// The directory's index of unique properties (UPN, `mail`, `uniqueName`, `appId`) follows every change to the objects:
/// a rename frees the old value and takes the new one, a deletion frees the object's values, a restore takes them back,
/// and a reopened tenant finds them again. Look-ups are case-insensitive (api-reference/v1.0/resources/user.md:
/// userPrincipalName; api-reference/v1.0/api/user-post-users.md: 400/409 on a duplicate).
@Suite struct UniqueKeyIndexTests {
    private func users(_ fake: FakeGraph, upn: String) async throws -> [String] {
        try await fake.graph.list("/users", query: [QueryItem("$filter", "userPrincipalName eq \(GraphClient.literal(upn))")])
            .compactMap { $0["id"]?.stringValue }
    }

    private func status(_ fake: FakeGraph, _ method: String, _ path: String, body: JSONValue? = nil) async -> Int {
        do {
            return try await fake.graph.send(GraphRequest(method, path, body: body)).status
        } catch let error as GraphError {
            return error.status
        } catch {
            return -1
        }
    }

    @Test func renameDeleteRestoreAndReopenKeepTheIndexTrue() async throws {
        let directory = try TemporaryDirectory("fake-unique-keys")
        let fake = try FakeGraph(stateFile: directory.path("fake.sqlite"))
        let domain = "fabrikamdr.onmicrosoft.com"
        let ada = try await fake.createUser("Ada")
        #expect(try await users(fake, upn: "ada@\(domain)") == [ada])
        #expect(try await users(fake, upn: "ADA@\(domain.uppercased())") == [ada])

        // A rename frees the old UPN and takes the new one, in either case.
        let renamed = try await fake.graph.send(
            GraphRequest("PATCH", "/users/\(ada)", body: ["userPrincipalName": .string("Lovelace@\(domain)")]))
        #expect(renamed.status == 204)
        #expect(try await users(fake, upn: "Ada@\(domain)").isEmpty)
        #expect(try await users(fake, upn: "lovelace@\(domain)") == [ada])
        // Graph answers a duplicate UPN 400 (the fake's GraphFailure.alreadyExists).
        #expect(await status(fake, "POST", "/users", body: fake.user("LOVELACE")) == 400)
        let other = try await fake.createUser("ada")
        #expect(try await users(fake, upn: "ada@\(domain)") == [other])

        // Deleting frees the UPN; the deleted user cannot be restored while another user holds it.
        #expect(await status(fake, "DELETE", "/users/\(ada)") == 204)
        #expect(try await users(fake, upn: "lovelace@\(domain)").isEmpty)
        let successor = try await fake.createUser("Lovelace")
        #expect(await status(fake, "POST", "/directory/deletedItems/\(ada)/restore") == 400)
        #expect(await status(fake, "DELETE", "/users/\(successor)") == 204)
        #expect(await status(fake, "DELETE", "/directory/deletedItems/\(successor)") == 204)
        #expect(await status(fake, "POST", "/directory/deletedItems/\(ada)/restore") == 200)
        #expect(try await users(fake, upn: "LoveLace@\(domain)") == [ada])

        // A reopened tenant rebuilds the same index from its state file.
        let reopened = try FakeGraph(stateFile: directory.path("fake.sqlite"))
        #expect(try await users(reopened, upn: "lovelace@\(domain)") == [ada])
        #expect(try await users(reopened, upn: "ada@\(domain)") == [other])
        #expect(await status(reopened, "POST", "/users", body: reopened.user("ADA")) == 400)
    }

    @Test func alternateKeysFollowRenames() async throws {
        let fake = try FakeGraph()
        let group: JSONValue = [
            "displayName": "Finance", "mailEnabled": false, "mailNickname": "finance", "securityEnabled": true,
            "uniqueName": "Finance-Team",
        ]
        let id = try await fake.graph.send(GraphRequest("POST", "/groups", body: group)).object["id"]!.stringValue!
        #expect(try await fake.graph.get("/groups(uniqueName='finance-team')")["id"]?.stringValue == id)
        #expect(await status(fake, "PATCH", "/groups/\(id)", body: ["uniqueName": "Treasury"]) == 204)
        #expect(await status(fake, "GET", "/groups(uniqueName='Finance-Team')") == 404)
        #expect(try await fake.graph.get("/groups(uniqueName='TREASURY')")["id"]?.stringValue == id)
        #expect(await status(fake, "DELETE", "/groups(uniqueName='treasury')") == 204)
        #expect(await status(fake, "GET", "/groups(uniqueName='Treasury')") == 404)
    }
}

/// A reopened tenant reads only its objects' indexed properties from the state file and parses each object when it is
/// first read; what it answers is the same as before it was closed.
@Suite struct LazyLoadTests {
    @Test func topLevelStringsReadsOnlyTheNamedStringMembers() {
        let text =
            #"{"a":{"userPrincipalName":"nested@x"},"b":["}",",","\"{"],"mail":null,"n":-1.5e3,"t":true,"userPrincipalName":"Ada@X.com"}"#
        #expect(TopLevelStrings.read(text, ["userPrincipalName", "mail"]) == ["userPrincipalName": "Ada@X.com"])
        #expect(TopLevelStrings.read(" { } ", ["id"]) == [:])
        // An escape in a named value, or text that is not an object, is left to the parser.
        #expect(TopLevelStrings.read(#"{"userPrincipalName":"a\"b@x"}"#, ["userPrincipalName"]) == nil)
        #expect(TopLevelStrings.read(#"{"other":"a\"b","id":"x"}"#, ["id"]) == ["id": "x"])
        #expect(TopLevelStrings.read("[1]", ["id"]) == nil)
        #expect(TopLevelStrings.read(#"{"id":"x""#, ["id"]) == nil)
        #expect(TopLevelStrings.read(#"{"id":"x",}"#, ["id"]) == nil)
    }

    @Test func aReopenedTenantAnswersAsBefore() async throws {
        let directory = try TemporaryDirectory("fake-lazy-load")
        let fake = try FakeGraph(stateFile: directory.path("fake.sqlite"))
        let ada = try await fake.createUser("ada")
        var quoted = try #require(fake.user("quote").objectValue)
        quoted["displayName"] = #"Ada "Quote" {Lovelace}, \ "#
        quoted["userPrincipalName"] = "o'brien@fabrikamdr.onmicrosoft.com"
        _ = try await fake.graph.send(GraphRequest("POST", "/users", body: .object(quoted)))
        let unified: JSONObject = [
            "displayName": "Team", "mailEnabled": true, "mailNickname": "Team", "securityEnabled": false, "groupTypes": ["Unified"],
        ]
        let team = try await fake.graph.send(GraphRequest("POST", "/groups", body: .object(unified))).object["id"]!.stringValue!
        _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(team)/members/$ref", body: ["@odata.id": fake.ref(ada)]))
        let users = await fake.tenant.objects(ofType: "user"), groups = await fake.tenant.objects(ofType: "group")

        let reopened = try FakeGraph(stateFile: directory.path("fake.sqlite"))
        #expect(await reopened.tenant.objects(ofType: "user") == users)
        #expect(await reopened.tenant.objects(ofType: "group") == groups)
        #expect(try await reopened.graph.get("/users/\(ada)")["userPrincipalName"]?.stringValue == "ada@fabrikamdr.onmicrosoft.com")
        let byUPN = try await reopened.graph.list(
            "/users", query: [QueryItem("$filter", "userPrincipalName eq 'O''Brien@fabrikamdr.onmicrosoft.com'")])
        #expect(byUPN.first?["displayName"]?.stringValue == #"Ada "Quote" {Lovelace}, \ "#)
        #expect(await reopened.tenant.relationship("members", of: team) == [ada])
        // The Microsoft 365 group's nickname is still taken (api-reference/v1.0/resources/group.md: mailNickname unique).
        var again = unified
        again["displayName"] = "Team 2"
        again["mailNickname"] = "TEAM"
        await #expect(throws: GraphError.self) { _ = try await reopened.graph.send(GraphRequest("POST", "/groups", body: .object(again))) }
        // A renamed user keeps every other property.
        _ = try await reopened.graph.send(GraphRequest("PATCH", "/users/\(ada)", body: ["jobTitle": "Analyst"]))
        var expected = try #require(users.first { $0["id"]?.stringValue == ada })
        expected["jobTitle"] = "Analyst"
        #expect(await reopened.tenant.objects(ofType: "user").first { $0["id"]?.stringValue == ada } == expected)
    }
}
