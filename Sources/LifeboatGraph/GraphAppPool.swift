import Foundation
import Logging

/// One application registration a rebuild signs in with: its client id and where its credential is kept. The
/// credential's value is never part of it (nor of a command line): a secret is read from an environment variable or
/// a file, a certificate and its private key from files.
package struct GraphAppRegistration: Sendable, Hashable, CustomStringConvertible {
    /// Where the credential is.
    package enum CredentialSource: Sendable, Hashable {
        case secretEnvironment(String)
        case secretFile(String)
        case certificate(certificate: String, privateKey: String)
    }

    /// The application (client) id; what the checkpoint records as the app that did an operation.
    package var clientID: String
    package var source: CredentialSource

    package init(clientID: String, source: CredentialSource) {
        self.clientID = clientID
        self.source = source
    }

    /// Parses `CLIENT_ID,secret-env=NAME`, `CLIENT_ID,secret-file=PATH` or `CLIENT_ID,certificate=PATH,private-key=PATH`.
    package init(parsing text: String) throws(CredentialError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard let clientID = parts.first, !clientID.isEmpty, !clientID.contains("=") else {
            throw CredentialError(
                "an app is CLIENT_ID,secret-env=NAME or CLIENT_ID,secret-file=PATH or CLIENT_ID,certificate=PATH,private-key=PATH; this one starts with no client id"
            )
        }
        var fields: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty, ["secret-env", "secret-file", "certificate", "private-key"].contains(pair[0]) else {
                // The key only: a value may be a secret pasted by mistake.
                let what = pair.count == 2 ? "\"\(pair[0])=…\"" : "a part without NAME="
                throw CredentialError(
                    "app \(clientID): \(what) is not one of secret-env=NAME, secret-file=PATH, certificate=PATH, private-key=PATH (a secret's value never goes on the command line)"
                )
            }
            guard fields[pair[0]] == nil else { throw CredentialError("app \(clientID): \(pair[0]) is given twice") }
            fields[pair[0]] = pair[1]
        }
        switch (fields["secret-env"], fields["secret-file"], fields["certificate"], fields["private-key"]) {
        case (let name?, nil, nil, nil): source = .secretEnvironment(name)
        case (nil, let path?, nil, nil): source = .secretFile(path)
        case (nil, nil, let certificate?, let key?): source = .certificate(certificate: certificate, privateKey: key)
        default:
            throw CredentialError(
                "app \(clientID): give exactly one credential: secret-env=NAME, secret-file=PATH, or certificate=PATH with private-key=PATH"
            )
        }
        self.clientID = clientID
    }

    /// The credential, read from the environment or files.
    package func credential(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientCredentials.Credential {
        switch source {
        case .secretEnvironment(let name): return .secret(try .environment(name, in: environment))
        case .secretFile(let path): return .secret(try .file(path))
        case .certificate(let certificate, let key): return .certificate(try .files(privateKey: key, certificate: certificate))
        }
    }

    /// The client id and where its credential is; never the credential.
    package var description: String {
        switch source {
        case .secretEnvironment(let name): "\(clientID) (secret in $\(name))"
        case .secretFile(let path): "\(clientID) (secret in \(path))"
        case .certificate(let certificate, _): "\(clientID) (certificate \(certificate))"
        }
    }
}

/// Several app registrations of one tenant behind one ``GraphClient``: each signs in with its own credential and gets
/// its own token, the client's ``ThroughputGovernor`` keeps a write and a resource-unit window per app and the
/// tenant-wide write window and endpoint limits for all of them, and sends each request with the app whose quotas
/// admit it first. Graph's write quota is per app and tenant (3,000 per 150 s) up to 18,000 per 300 s per tenant
/// (throttling-limits.md): three apps write three times as fast as one, and a fourth adds nothing.
package enum GraphAppPool {
    /// A client over `apps` (client id and credential, first the main app), signed in at `endpoints` for `tenant`,
    /// sending through `transport` and paced by a governor with `configuration` (its ``ThroughputGovernor/Configuration/apps``
    /// is set to the number of apps).
    package static func client(
        endpoints: GraphEndpoints, tenant: String, apps: [(clientID: String, credential: ClientCredentials.Credential)],
        transport: any HTTPTransport, configuration: ThroughputGovernor.Configuration = .init(), clock: any GraphClock = SystemClock(),
        logger: Logger? = nil
    ) -> GraphClient {
        let registrations = apps.map { app in
            GraphApp(
                name: app.clientID, transport: transport,
                tokens: ClientCredentials(
                    tenant: tenant, clientID: app.clientID, credential: app.credential, endpoints: endpoints,
                    transport: transport, clock: clock, logger: logger))
        }
        var configuration = configuration
        configuration.apps = registrations.count
        return GraphClient(
            baseURL: endpoints.baseURL, apps: registrations, clock: clock,
            governor: ThroughputGovernor(configuration: configuration, clock: clock), logger: logger)
    }
}
