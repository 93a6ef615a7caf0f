import ArgumentParser
import Foundation
import LifeboatEngine
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatSnapshot

/// `lifeboat fake-tenant`: the fake tenant on its own — served over HTTP, or generated as a snapshot.
struct FakeTenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-tenant",
        abstract: "Serve the fake tenant over HTTP, or generate a synthetic tenant snapshot.",
        subcommands: [Serve.self, Generate.self, Delete.self, PublishDNS.self, Inspect.self])
}

extension FakeTenantCommand {
    /// `lifeboat fake-tenant serve`: Graph, a token endpoint and an operator API on 127.0.0.1.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the fake tenant on 127.0.0.1: Graph under /v1.0, OAuth2 client credentials at /{tenant}/oauth2/v2.0/token.",
            discussion: """
                Every Graph request needs a bearer token from the server's own token endpoint (client credentials with a
                client secret or a certificate assertion). Without --client-secret-file or --client-cert, a secret is
                generated and written to a 0600 file whose path is printed. Secrets are never taken on the command line.
                Stop the server with Ctrl-C (SIGINT) or SIGTERM.
                """)

        @Option(help: "The port on 127.0.0.1 (0 picks a free one and prints it).")
        var port: Int = 8080

        @Option(help: "The fake tenant's state (SQLite); kept between runs. Default: in memory.")
        var state: String?

        @Option(
            help: ArgumentHelp(
                "A snapshot to load into a new fake tenant with its original ids (the \"before\" tenant of an in-place rehearsal).",
                valueName: "snapshot"))
        var seed: String?

        @Option(help: "Throttling and fault profile: fast (default), realistic, chaos, or a profile YAML file.")
        var profile: String?

        @Option(help: "The tenant's initial domain (default: the seed snapshot's own, or lifeboat-drill.onmicrosoft.com).")
        var tenantDomain: String?

        @Option(help: "The application (client) id allowed to get tokens (default: a new random id, printed).")
        var clientID: String?

        @Option(help: "A file holding the client secret (one line). Keep it 0600.")
        var clientSecretFile: String?

        @Option(
            help: ArgumentHelp(
                "A PEM certificate (public part only) whose private key signs client assertions (repeatable).", valueName: "pem"))
        var clientCert: [String] = []

        @Option(help: "Seconds an access token lives.")
        var tokenLifetime: Int = 3599

        @Option(
            help: ArgumentHelp(
                "A Graph application permission the client is granted, issued in its tokens' roles (repeatable; replaces the default grants: the profile's permissions, else the list in Docs/live-rebuild.md).",
                valueName: "permission"))
        var grant: [String] = []

        @Option(
            help: ArgumentHelp(
                "A Graph application permission withheld from the client (repeatable): routes that need it answer 403 Authorization_RequestDenied.",
                valueName: "permission"))
        var withhold: [String] = []

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            guard (1...86_400).contains(tokenLifetime) else {
                throw ValidationError("--token-lifetime must be between 1 and 86400 seconds")
            }
        }

        func run() async throws {
            let snapshot = try seed.map(RunSession.loadSnapshot)
            // Seeded from a snapshot, the fake *is* that tenant (same id, domains and object ids): the "before" of an in-place rehearsal.
            let domain = tenantDomain ?? snapshot?.manifest.sourceInitialDomain ?? "lifeboat-drill.onmicrosoft.com"
            let tenant: FakeTenant
            do {
                if let state {
                    let parent = URL(fileURLWithPath: state).deletingLastPathComponent()
                    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
                }
                let behaviour = try profile.map(FakeTenantProfile.named) ?? .fast
                tenant = try FakeTenant(
                    stateFile: state, tenantID: snapshot?.manifest.sourceTenantId, initialDomain: domain, profile: behaviour)
            } catch {
                printError("lifeboat: cannot open the fake tenant state \(state ?? "(memory)"): \(error)")
                throw ExitStatus.invalidInput
            }
            if let snapshot {
                let existing = await tenant.objects(ofType: "user").count + (await tenant.objects(ofType: "group").count)
                if existing > 0 {
                    printError(
                        "lifeboat: --seed: the fake tenant in \(state ?? "memory") already holds \(existing) users and groups; seed a new --state"
                    )
                    throw ExitStatus.invalidInput
                }
                let started = Date()
                let count = try await tenant.importSnapshot(snapshot)
                // Written unbuffered: the server that follows never returns to flush stdout.
                FileHandle.standardOutput.write(
                    Data(
                        "Seed \(seed!): \(count) objects with their original ids (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n"
                            .utf8))
            }

            let clientID = self.clientID ?? UUID().uuidString.lowercased()
            var secrets: [String] = []
            let secretNote: String
            if let clientSecretFile {
                guard let text = try? String(contentsOfFile: clientSecretFile, encoding: .utf8),
                    let secret = text.split(whereSeparator: \.isNewline).first.map(String.init), !secret.isEmpty
                else {
                    printError("lifeboat: --client-secret-file: cannot read a secret from \(clientSecretFile)")
                    throw ExitStatus.invalidInput
                }
                secrets.append(secret)
                secretNote = "client secret: from \(clientSecretFile)"
            } else if clientCert.isEmpty {
                let secret = ClientSecretFile.generateSecret()
                let path =
                    (state.map { $0 + ".client-secret" })
                    ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                        "lifeboat-fake-tenant-\(tenant.tenantID.prefix(8)).client-secret"
                    ).path
                do {
                    try ClientSecretFile.write(secret, to: path)
                } catch {
                    printError("lifeboat: cannot write the generated client secret to \(path): \(error)")
                    throw ExitStatus.invalidInput
                }
                secrets.append(secret)
                secretNote = "client secret: generated, in \(path) (0600)"
            } else {
                secretNote = "client secret: none (certificates only)"
            }
            var certificates: [RegisteredCertificate] = []
            for path in clientCert {
                do {
                    certificates.append(try RegisteredCertificate(pem: String(contentsOfFile: path, encoding: .utf8)))
                } catch {
                    printError("lifeboat: --client-cert \(path): \(error)")
                    throw ExitStatus.invalidInput
                }
            }
            // The operator API's token, per server, in a 0600 file next to the state (or in the temp directory).
            let operatorToken = FakeTenantServer.generateOperatorToken()
            let tokenFile =
                (state.map { $0 + ".operator-token" })
                ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                    "lifeboat-fake-tenant-\(tenant.tenantID.prefix(8)).operator-token"
                ).path
            do {
                try PrivateFile.replace(tokenFile, contents: Data((operatorToken + "\n").utf8))
            } catch {
                printError("lifeboat: cannot write the operator token to \(tokenFile): \(error)")
                throw ExitStatus.invalidInput
            }
            let server = FakeTenantServer(
                tenant: tenant,
                applications: [
                    AppRegistration(
                        clientID: clientID, secrets: secrets, certificates: certificates,
                        roles: FakeTenantPermissions.roles(defaults: tenant.grantedPermissions, granted: grant, withheld: withhold))
                ],
                tokenLifetime: tokenLifetime, configuration: .init(port: port), operatorToken: operatorToken, operatorTokenFile: tokenFile)
            let profileNote = "profile: \(tenant.profile.name)"
            let credentialNote = secretNote, certificateCount = certificates.count
            try await server.run { port in
                let base = "http://127.0.0.1:\(port)"
                var lines = [
                    "Fake tenant \(tenant.initialDomain) (\(tenant.tenantID)) listening on \(base)",
                    "  Graph:          \(base)/v1.0",
                    "  token endpoint: \(base)/\(tenant.tenantID)/oauth2/v2.0/token  (scope https://graph.microsoft.com/.default)",
                    "  client id:      \(clientID)",
                    "  \(credentialNote)",
                ]
                if certificateCount > 0 { lines.append("  certificates:   \(certificateCount) registered (x5t#S256)") }
                lines.append("  \(profileNote)")
                lines.append("  health:         \(base)/_lifeboat/health")
                lines.append(
                    "  operator API:   \(base)/_lifeboat/ (Authorization: Bearer <token in \(tokenFile), 0600>; `lifeboat fake-tenant delete|publish-dns|inspect --url \(base)` reads it)"
                )
                lines.append("Stop with Ctrl-C.")
                // Unbuffered, so a script reading the output sees it at once.
                FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
        }
    }

    /// `lifeboat fake-tenant generate`: a synthetic tenant as a snapshot, deterministic from a seed.
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic tenant as a snapshot (users, groups, apps, roles, Conditional Access), deterministic from --seed.",
            discussion: """
                The default custom domains (contoso.com, fabrikam-labs.com) are the ones Runbooks/rebuild-new-tenant.yaml maps,
                so `lifeboat tabletop --runbook Runbooks/rebuild-new-tenant.yaml --snapshot DIR --state S` works on the output
                as it is. With other --domains, map them in the runbook's upnDomainMap.
                """)

        @Option(help: "Users, guests and break-glass accounts included.")
        var users: Int

        @Option(help: "Groups (default: users / 20, at least 24).")
        var groups: Int?

        @Option(help: "Application registrations, each with a service principal (default: users / 500, at least 4).")
        var apps: Int?

        @Option(help: "Seed of the pseudo-random sequence: the same seed writes the same bytes.")
        var seed: UInt64 = 1

        @Option(help: "The initial domain's prefix: NAME.onmicrosoft.com.")
        var name: String = "contoso"

        @Option(help: "One to three custom domains, comma-separated; the first holds most UPNs.")
        var domains: String = TenantGenerator.Options.runbookDomains.joined(separator: ",")

        @Option(help: "The snapshot directory to create (must not exist or be empty).")
        var out: String

        @Flag(help: "Also make a few mail-enabled security groups, which Graph cannot create (they become follow-ups).")
        var mailEnabledSecurityGroups = false

        func run() async throws {
            let options = TenantGenerator.Options(
                users: users, groups: groups, applications: apps, seed: seed, name: name,
                customDomains: domains.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                mailEnabledSecurityGroups: mailEnabledSecurityGroups)
            let generator: TenantGenerator
            do {
                generator = try TenantGenerator(options)
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            let started = Date()
            let summary: TenantGenerator.Summary
            do {
                summary = try generator.write(to: URL(fileURLWithPath: out))
            } catch let error as TenantGenerator.OptionError {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            let seconds = Date().timeIntervalSince(started)
            let counts = summary.manifest.files.sorted { $0.key < $1.key }
                .map { "\($0.value.count ?? 0) \($0.key.replacingOccurrences(of: ".json", with: ""))" }.joined(separator: ", ")
            print("Wrote \(out) in \(String(format: "%.1f", seconds)) s: \(counts)")
            print("  \(summary.memberships) memberships (largest group \(summary.largestGroup)), \(summary.nestedGroups) nested groups")
            print("  tenant \(summary.manifest.sourceTenantId), initial domain \(summary.manifest.sourceInitialDomain ?? "?")")
            print(
                "Rehearse it:  lifeboat tabletop --runbook Runbooks/rebuild-new-tenant.yaml --snapshot \(out) --state drill/\(name).sqlite")
        }
    }
}

/// The generated client secret of `fake-tenant serve`, kept in a file only its owner can read.
enum ClientSecretFile {
    static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-")
        return String((0..<40).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// Writes the secret 0600 from the first byte; an existing file is overwritten only when it is a private regular
    /// file of this user (a symbolic link or another user's file is refused, never followed).
    static func write(_ secret: String, to path: String) throws {
        try PrivateFile.replace(path, contents: Data((secret + "\n").utf8))
    }
}
