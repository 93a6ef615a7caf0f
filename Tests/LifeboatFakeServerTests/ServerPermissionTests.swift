import Foundation
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatServedFake
import LifeboatTestSupport
import Testing

/// Tokens carry the client's application permissions (`roles`) and the served fake enforces them per route
/// (user-post-users.md, user-list.md: application permissions), plus the operator API for held domains (domain-verify.md).
@Suite struct ServerPermissionTests {
    @Test func tokensCarryRolesAndWithheldPermissionsAnswer403() async throws {
        let directory = try TemporaryDirectory("server-roles")
        let tenant = try FakeTenant(stateFile: directory.path("fake.sqlite"), initialDomain: "served.onmicrosoft.com")
        let readOnly = AppRegistration(
            clientID: "11111111-2222-4333-8444-555555555555", secrets: ["reader-secret"], roles: ["User.Read.All"])
        let served = ServedTenant(
            directory: directory,
            served: try await ServedFakeTenant.start(
                tenant,
                applications: [
                    AppRegistration(clientID: ServedTenant.clientID, secrets: [ServedTenant.secret]), readOnly,
                ]))

        let full = try await served.bearer()
        let payload = try #require(full.split(separator: ".").dropFirst().first)
        var base64 = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let claims = try JSONCoding.decode(try #require(Data(base64Encoded: base64)))
        #expect(Set(claims["roles"]?.stringArray ?? []) == Set(FakeTenantPermissions.defaultGrants))

        let reader = try await served.requestToken([
            ("grant_type", "client_credentials"), ("client_id", readOnly.clientID),
            ("client_secret", "reader-secret"), ("scope", "https://graph.microsoft.com/.default"),
        ])
        let readerToken = try #require(reader.json["access_token"]?.stringValue)
        let user: JSONValue = [
            "accountEnabled": true, "displayName": "Ada", "mailNickname": "ada", "userPrincipalName": "ada@served.onmicrosoft.com",
            "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
        ]
        let refused = try await served.graph("POST", "/users", token: readerToken, body: user)
        #expect(refused.status == 403)
        #expect(refused.json?["error"]?["code"]?.stringValue == "Authorization_RequestDenied")
        #expect(try await served.graph("GET", "/users", token: readerToken).status == 200)
        #expect(try await served.graph("POST", "/users", token: full, body: user).status == 201)

        // Operator API: another tenant holds a domain; its verify fails for good.
        #expect(try await served.graph("POST", "/domains", token: full, body: ["id": "contoso.com"]).status == 201)
        // The operator API needs the server's operator token (issue 15): without it the call is refused.
        let operatorHeaders = ["Content-Type": "application/json", "Authorization": "Bearer \(served.server.operatorToken)"]
        let anonymous = try await served.send(
            "POST", "\(served.base)/_lifeboat/domains/held", headers: ["Content-Type": "application/json"],
            body: Data(#"{"domain": "contoso.com", "held": true}"#.utf8))
        #expect(anonymous.status == 401)
        let held = try await served.send(
            "POST", "\(served.base)/_lifeboat/domains/held", headers: operatorHeaders,
            body: Data(#"{"domain": "contoso.com", "held": true}"#.utf8))
        #expect(held.status == 200)
        _ = try await served.send(
            "POST", "\(served.base)/_lifeboat/dns", headers: operatorHeaders, body: Data(#"{"domain": "contoso.com"}"#.utf8))
        let verify = try await served.graph("POST", "/domains/contoso.com/verify", token: full)
        #expect(verify.status == 400)
        #expect(verify.json?["error"]?["message"]?.stringValue?.contains("another tenant") == true)
        await served.stop()
    }
}
