import ArgumentParser
import Foundation
import LifeboatCurl
import LifeboatGraph
import Logging

extension GraphCloud: ExpressibleByArgument {}
extension ThroughputGovernor.TenantSize: ExpressibleByArgument {}

/// How a live command reaches the target tenant: the cloud or explicit URLs, the application's
/// credentials and TLS. There is deliberately no option that takes a secret's value: it would
/// show in the process list and the shell history.
package struct GraphConnectionOptions: ParsableArguments {
    @Option(help: "The Microsoft cloud: global, usgov, usgov-dod or china.")
    package var cloud: GraphCloud = .global

    @Option(help: ArgumentHelp("The Graph root instead of the cloud's, e.g. https://graph.microsoft.com.", valueName: "url"))
    package var graphURL: String?

    @Option(help: ArgumentHelp("The sign-in authority instead of the cloud's, e.g. https://login.microsoftonline.com.", valueName: "url"))
    package var authorityURL: String?

    @Option(help: "The target tenant: its id or initial domain.")
    package var tenant: String

    @Option(help: "The application (client) id.")
    package var clientID: String

    @Option(help: ArgumentHelp("The environment variable that holds the client secret.", valueName: "name"))
    package var clientSecretEnv: String?

    @Option(help: ArgumentHelp("A file that holds the client secret (keep it 0600).", valueName: "path"))
    package var clientSecretFile: String?

    @Option(help: ArgumentHelp("The application's certificate (PEM), with --private-key.", valueName: "path"))
    package var certificate: String?

    @Option(help: ArgumentHelp("The certificate's private key (PEM, RSA or EC P-256).", valueName: "path"))
    package var privateKey: String?

    @Option(help: ArgumentHelp("Trusted certificate authorities (PEM) instead of the system's.", valueName: "path"))
    package var caBundle: String?

    @Option(help: "The target's size, which sets Graph's resource-unit quota: small (<50 users), medium (50-500) or large.")
    package var tenantSize: ThroughputGovernor.TenantSize = .small

    @Option(
        name: .customLong("app"),
        help: ArgumentHelp(
            "Another app registration of the target sharing the work (Graph's write quota is per app; 3 apps reach the tenant's): "
                + "CLIENT_ID,secret-env=NAME or CLIENT_ID,secret-file=PATH or CLIENT_ID,certificate=PATH,private-key=PATH. Repeatable.",
            valueName: "app"))
    package var otherApps: [String] = []

    package init() {}

    package func validate() throws {
        let ways = [clientSecretEnv != nil, clientSecretFile != nil, certificate != nil || privateKey != nil].filter { $0 }.count
        guard ways == 1 else {
            throw ValidationError(
                "give exactly one credential: --client-secret-env NAME, --client-secret-file PATH, or --certificate with --private-key")
        }
        if (certificate == nil) != (privateKey == nil) {
            throw ValidationError("--certificate and --private-key go together")
        }
        for app in otherApps {
            do {
                _ = try GraphAppRegistration(parsing: app)
            } catch {
                throw ValidationError("--app: \(error)")
            }
        }
        for url in [graphURL, authorityURL].compactMap({ $0 }) {
            do {
                try CurlTransport.check(url: url)
            } catch {
                // Invalid input (exit 2, as the README promises), not an unexpected failure.
                printError("lifeboat: \(url): \(error); nothing was sent")
                throw ExitStatus.invalidInput
            }
        }
    }

    /// The sign-in and Graph URLs.
    package var endpoints: GraphEndpoints {
        GraphEndpoints(cloud: cloud, graphURL: graphURL, authorityURL: authorityURL)
    }

    /// The credential, read from the environment or files.
    package func credential(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientCredentials.Credential {
        if let name = clientSecretEnv { return .secret(try .environment(name, in: environment)) }
        if let path = clientSecretFile { return .secret(try .file(path)) }
        guard let certificate, let privateKey else { throw CredentialError("no credential given") }
        return .certificate(try .files(privateKey: privateKey, certificate: certificate))
    }

    /// A Graph client over libcurl, signed in with these options and paced by a governor.
    package func graphClient(logger: Logger? = nil) throws -> GraphClient {
        let others = try otherApps.map { text in
            let registration = try GraphAppRegistration(parsing: text)
            return (registration.clientID, try registration.credential())
        }
        return try Self.graphClient(
            endpoints: endpoints, tenant: tenant, clientID: clientID, credential: try credential(),
            caBundle: caBundle, tenantSize: tenantSize, logger: logger, otherApps: others)
    }

    /// A Graph client over libcurl with client-credentials sign-in and a throughput governor, over the main app and
    /// `otherApps` (``GraphAppPool``).
    static func graphClient(
        endpoints: GraphEndpoints, tenant: String, clientID: String, credential: ClientCredentials.Credential,
        caBundle: String?, tenantSize: ThroughputGovernor.TenantSize, logger: Logger?,
        otherApps: [(clientID: String, credential: ClientCredentials.Credential)] = []
    ) throws -> GraphClient {
        let transport = try CurlTransport(configuration: .init(caBundlePath: caBundle))
        return GraphAppPool.client(
            endpoints: endpoints, tenant: tenant, apps: [(clientID, credential)] + otherApps, transport: transport,
            configuration: .init(resourceUnits: tenantSize.resourceUnits), logger: logger)
    }
}

/// How `tabletop --graph-url` reaches a `lifeboat fake-tenant serve` on this machine. Loopback only:
/// a tabletop has none of a live rebuild's safety rails.
struct RehearsalConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Rehearse against a running `lifeboat fake-tenant serve` at this root (http://127.0.0.1:PORT) instead of in process.",
            valueName: "url"))
    var graphURL: String?

    @Option(help: "With --graph-url: the served tenant's id or initial domain (default: asked from the server's /_lifeboat/health).")
    var tenant: String?

    @Option(help: "With --graph-url: the application (client) id `fake-tenant serve` printed.")
    var clientID: String?

    @Option(help: ArgumentHelp("With --graph-url: the file holding the client secret `fake-tenant serve` wrote.", valueName: "path"))
    var clientSecretFile: String?

    @Option(help: ArgumentHelp("With --graph-url: the environment variable holding the client secret.", valueName: "name"))
    var clientSecretEnv: String?

    func validate() throws {
        guard let graphURL else {
            if tenant != nil || clientID != nil || clientSecretFile != nil || clientSecretEnv != nil {
                throw ValidationError("--tenant, --client-id and the client secret go with --graph-url")
            }
            return
        }
        guard let host = URLComponents(string: graphURL)?.host, CurlTransport.isLoopback(host: host) else {
            throw ValidationError(
                "--graph-url must be a loopback address (a fake tenant served on this machine); a real tenant is rebuilt with `lifeboat rebuild`"
            )
        }
        try CurlTransport.check(url: graphURL)
        guard clientID != nil else { throw ValidationError("--graph-url needs --client-id (printed by `lifeboat fake-tenant serve`)") }
        guard (clientSecretFile == nil) != (clientSecretEnv == nil) else {
            throw ValidationError("--graph-url needs exactly one of --client-secret-file PATH or --client-secret-env NAME")
        }
    }

    /// A client for the served fake: sign-in and Graph on the same loopback server.
    func graphClient(tenant: String, logger: Logger? = nil) throws -> GraphClient {
        guard let graphURL, let clientID else { throw CredentialError("--graph-url and --client-id are required") }
        let secret: ClientSecret =
            if let clientSecretFile { try .file(clientSecretFile) } else {
                try .environment(clientSecretEnv ?? "", in: ProcessInfo.processInfo.environment)
            }
        return try GraphConnectionOptions.graphClient(
            endpoints: GraphEndpoints(graphURL: graphURL, authorityURL: graphURL), tenant: tenant, clientID: clientID,
            credential: .secret(secret), caBundle: nil, tenantSize: .small, logger: logger)
    }
}
