import Foundation
import LifeboatCLI
import LifeboatGraph
import Testing

@Suite struct GraphConnectionOptionsTests {
    let base = ["--tenant", "contoso-dr.onmicrosoft.com", "--client-id", "app"]

    @Test func aNationalCloudSetsBothHosts() throws {
        let options = try GraphConnectionOptions.parse(base + ["--cloud", "usgov-dod", "--client-secret-env", "LIFEBOAT_SECRET"])
        #expect(options.endpoints.baseURL == "https://dod-graph.microsoft.us/v1.0")
        #expect(
            options.endpoints.tokenURL(tenant: options.tenant)
                == "https://login.microsoftonline.us/contoso-dr.onmicrosoft.com/oauth2/v2.0/token")
        guard case .secret = try options.credential(environment: ["LIFEBOAT_SECRET": "x"]) else {
            Issue.record("expected a secret")
            return
        }
    }

    @Test func explicitURLsWin() throws {
        let options = try GraphConnectionOptions.parse(
            base + [
                "--cloud", "china", "--graph-url", "https://graph.example", "--authority-url", "https://login.example",
                "--client-secret-file", "/run/secrets/graph",
            ])
        #expect(options.endpoints.baseURL == "https://graph.example/v1.0")
        #expect(options.endpoints.authorityURL == "https://login.example")
    }

    @Test(arguments: [
        ["--client-secret", "plain-value"],  // no such option: secrets never go on the command line
        [],
        ["--client-secret-env", "A", "--client-secret-file", "/f"],
        ["--certificate", "/c.pem"],
        ["--client-secret-env", "A", "--graph-url", "http://graph.example"],
        ["--client-secret-env", "A", "--cloud", "mars"],
    ])
    func refusesUnsafeOrIncompleteCredentials(_ extra: [String]) {
        #expect(throws: (any Error).self) { _ = try GraphConnectionOptions.parse(base + extra) }
    }
}
