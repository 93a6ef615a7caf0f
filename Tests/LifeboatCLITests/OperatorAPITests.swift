import Foundation
import LifeboatCurl
import LifeboatEngine
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// The served fake's operator API needs the server's token and a JSON body; the CLI finds the token (0600 file).
@Suite struct OperatorAPITests {
    struct Served {
        let tenant: FakeTenant
        let server: FakeTenantServer
        let root: String
        let tokenFile: String
    }

    func serve(_ directory: TemporaryDirectory) async throws -> Served {
        let tenant = try FakeTenant(stateFile: directory.path("fake.sqlite"), initialDomain: "contosodr.onmicrosoft.com")
        _ = try await tenant.importSnapshot(try Snapshot.load(from: Fixtures.contoso))
        let token = FakeTenantServer.generateOperatorToken()
        let tokenFile = directory.path("fake.sqlite.operator-token")
        try PrivateFile.create(tokenFile, contents: Data((token + "\n").utf8))
        let server = FakeTenantServer(tenant: tenant, applications: [], operatorToken: token, operatorTokenFile: tokenFile)
        let port = try await server.start()
        return Served(tenant: tenant, server: server, root: "http://127.0.0.1:\(port)", tokenFile: tokenFile)
    }

    func send(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil) async throws -> HTTPResponse {
        try await CurlTransport().send(
            HTTPRequest(method: method, url: url, headers: headers, body: body.map { Data($0.utf8) }, timeout: 10))
    }

    @Test func withoutTheTokenOrAJSONBodyNothingIsDeleted() async throws {
        let directory = try TemporaryDirectory("operator-api")
        let served = try await serve(directory)
        let users = await served.tenant.objects(ofType: "user").count
        let purge = #"{"collection": "users", "purge": true}"#
        // A web page's form post: text/plain, no token.
        let form = try await send("POST", "\(served.root)/_lifeboat/delete", headers: ["Content-Type": "text/plain"], body: purge)
        #expect(form.status == 401)
        let wrong = try await send(
            "POST", "\(served.root)/_lifeboat/delete", headers: ["Content-Type": "application/json", "Authorization": "Bearer 00"],
            body: purge)
        #expect(wrong.status == 401)
        let token = try String(contentsOfFile: served.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let plain = try await send(
            "POST", "\(served.root)/_lifeboat/delete", headers: ["Content-Type": "text/plain", "Authorization": "Bearer \(token)"],
            body: purge)
        #expect(plain.status == 415)
        let notAnObject = try await send(
            "POST", "\(served.root)/_lifeboat/dns", headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"],
            body: "[1]")
        #expect(notAnObject.status == 400)
        let census = try await send("GET", "\(served.root)/_lifeboat/census")
        #expect(census.status == 401)
        #expect(await served.tenant.objects(ofType: "user").count == users)
        // Health stays open (tabletop --graph-url reads the tenant id there) and names the token file, not the token.
        let health = try await send("GET", "\(served.root)/_lifeboat/health")
        #expect(health.status == 200)
        #expect(try JSONCoding.decode(health.body)["operatorTokenFile"]?.stringValue == served.tokenFile)
        #expect(!String(decoding: health.body, as: UTF8.self).contains(token))

        let allowed = try await send(
            "POST", "\(served.root)/_lifeboat/delete", headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"],
            body: #"{"collection": "users", "filter": "startswith(userPrincipalName,'amelia')"}"#)
        #expect(allowed.status == 200, "\(String(decoding: allowed.body, as: UTF8.self))")
        #expect(await served.tenant.objects(ofType: "user").count == users - 1)
        await served.server.stop()
    }

    @Test func theCLISendsTheTokenItFindsAndRefusesAWrongOne() async throws {
        let directory = try TemporaryDirectory("operator-cli")
        let served = try await serve(directory)
        let before = await served.tenant.objects(ofType: "user").count
        let deleted = try await runLifeboat(
            ["fake-tenant", "delete", "--url", served.root, "--type", "users", "--where", "startswith(userPrincipalName,'amelia')"],
            in: directory)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(await served.tenant.objects(ofType: "user").count == before - 1)
        let inspect = try await runLifeboat(["fake-tenant", "inspect", "--url", served.root], in: directory)
        #expect(inspect.status == 0 && inspect.stdout.contains("users"), "\(inspect.stderr)")
        let dns = try await runLifeboat(["fake-tenant", "publish-dns", "--url", served.root, "--domain", "contoso.com"], in: directory)
        #expect(dns.status == 0, "\(dns.stderr)")

        try Data("not-the-token\n".utf8).write(to: URL(fileURLWithPath: directory.path("wrong.token")))
        let refused = try await runLifeboat(
            ["fake-tenant", "delete", "--url", served.root, "--type", "users", "--operator-token-file", directory.path("wrong.token")],
            in: directory)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("needs the token"), "\(refused.stderr)")
        #expect(await served.tenant.objects(ofType: "user").count == before - 1)
        await served.server.stop()
    }
}
