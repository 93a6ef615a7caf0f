import Foundation
import LifeboatEngine
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatServedFake
import LifeboatSnapshot
import LifeboatTestServer
import LifeboatTestSupport
import Testing

/// A fake tenant served over HTTP on 127.0.0.1 (port 0) as the target of `lifeboat rebuild`.
struct ServedTarget: TestStoppable {
    static let clientID = "0b4a6c1e-4d1f-4f7e-9a55-3f2f8e7c1d20"

    let directory: TemporaryDirectory
    let served: ServedFakeTenant
    let secret: String
    let secretFile: String

    /// An empty recovery tenant, or (with `tenantID`) the snapshot's own tenant seeded from it.
    static func start(
        _ directory: TemporaryDirectory, domain: String = "contosodr.onmicrosoft.com", seedFrom snapshot: Snapshot? = nil,
        certificates: [RegisteredCertificate] = [], tokenLifetime: Int = 3599, profile: FakeTenantProfile = .fast,
        roles: [String]? = nil
    ) async throws -> ServedTarget {
        let tenant = try FakeTenant(
            stateFile: directory.path("target.sqlite"), tenantID: snapshot?.manifest.sourceTenantId,
            initialDomain: snapshot?.manifest.sourceInitialDomain ?? domain, profile: profile)
        if let snapshot { _ = try await tenant.importSnapshot(snapshot) }
        // The operator publishes the TXT records at once (the served fast profile would otherwise wait a real minute).
        for name in ["contoso.com", "fabrikam-labs.com", "eu.contoso.com"] { try await tenant.publishDNSRecord(for: name) }
        let secret = "lifeboat-test-secret-\(UUID().uuidString)"
        let secretFile = directory.path("client.secret")
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let served = try await ServedFakeTenant.start(
            tenant,
            applications: [
                AppRegistration(
                    clientID: clientID, secrets: [secret], certificates: certificates, roles: roles ?? FakeTenantPermissions.defaultGrants)
            ],
            tokenLifetime: tokenLifetime)
        return ServedTarget(directory: directory, served: served, secret: secret, secretFile: secretFile)
    }

    var tenant: FakeTenant { served.tenant }
    var server: FakeTenantServer { served.server }
    var root: String { served.root }

    /// `lifeboat rebuild` against this tenant with the client secret from a file.
    func rebuild(_ runbook: String, state: String = "live.sqlite", tenant named: String? = nil, extra: [String]) async throws
        -> ProcessResult
    {
        try await runLifeboat(
            [
                "rebuild", "--runbook", Fixtures.runbook(runbook).path, "--snapshot", Fixtures.contoso.path, "--state",
                directory.path(state),
                "--graph-url", root, "--authority-url", root, "--tenant", named ?? tenant.tenantID, "--client-id", Self.clientID,
            ] + extra, in: directory)
    }

    var secretArguments: [String] { ["--client-secret-file", secretFile] }

    func stop() async { await served.stop() }
}

@Suite struct LiveRebuildTests {
    @Test func rebuildOverHTTPRestoresTheExampleAndLeaksNoSecret() async throws {
        let directory = try TemporaryDirectory("live")
        // Tokens live 2 s, so the client renews them during the run. The target is a new tenant as Microsoft hands it over
        // (issue 13): Security Defaults on, the Temporary Access Pass method off, Entra ID P1/P2 bought.
        var profile = FakeTenantProfile.fast
        profile.newTenant = FakeTenantProfile.NewTenant(
            securityDefaults: true, conditionalAccessLicensed: true, temporaryAccessPassEnabled: false)
        // Reads return Graph's default property set unless $select names more (verify must select what it compares).
        profile.strictRules = StrictRules(defaultPropertySet: true, eventualLists: true, eventualReads: true)
        let target = try await ServedTarget.start(directory, tokenLifetime: 2, profile: profile)
        try await stopping(target) { target in
            let options =
                target.secretArguments + [
                    "--confirm", target.tenant.initialDomain, "--log", directory.path("requests.log"), "--log-bodies",
                    "--report", directory.path("report.html"), "--operator-name", "Ines Duarte",
                ]

            // Gates stop a live run (exit 3) until a person approves them; the same command resumes.
            var result = try await target.rebuild("rebuild-new-tenant.yaml", extra: options)
            #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("lifeboat approve --state"))
            var approvals = 0
            while result.status == 3, approvals < 4 {
                let gate = try #require(result.stdout.components(separatedBy: "--gate ").last?.split(separator: " ").first.map(String.init))
                let approve = try await runLifeboat(
                    ["approve", "--state", directory.path("live.sqlite"), "--gate", gate, "--by", "Ines Duarte"], in: directory)
                #expect(approve.status == 0, "\(approve.stderr)")
                approvals += 1
                result = try await target.rebuild("rebuild-new-tenant.yaml", extra: options)
            }
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            // create-tenant, security-defaults (issue 13: Security Defaults go off behind a gate) and enable-ca.
            #expect(approvals == 3)
            #expect(await target.tenant.securityDefaultsEnabled == false)

            // The verify stage read the target back: every restored property of every restored object matches.
            let status = try await runLifeboat(["status", "--state", directory.path("live.sqlite")], in: directory)
            #expect(status.stdout.contains("live of rebuild-new-tenant"))
            #expect(!status.stdout.contains("verify-difference"), "\(status.stdout)")
            // An unsigned snapshot is called unsigned in the chain of custody.
            let custody = try await runLifeboat(["report", "--state", directory.path("live.sqlite"), "--format", "json"], in: directory)
            #expect(
                (try JSONCoding.decode(Data(custody.stdout.utf8))["custody"]?["snapshot"]?["signature"]?.stringValue ?? "").hasPrefix(
                    "not signed"))
            #expect(status.stdout.contains("ID map: 84 objects"), "\(status.stdout)")
            #expect(await TenantPicture.of(target.tenant).duplicates.isEmpty)
            #expect(
                await target.tenant.objects(ofType: "user").contains { $0["userPrincipalName"]?.stringValue == "amelia.hart@contoso.com" })
            #expect(await target.server.authority.tokensIssued >= 2, "tokens were not renewed")

            // Neither the secret nor any access token appears in the request log, the report, the checkpoint or the output.
            let log = try String(contentsOfFile: directory.path("requests.log"), encoding: .utf8)
            #expect(log.contains("POST /users"))
            #expect(log.contains("trace request body={"))
            let tokenHeader = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  // every token the fake issues starts with this header
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0 != "client.secret" }
            #expect(files.contains("live.sqlite") && files.contains("report.html"))
            // What the backup could not bring back is in the post-incident report of a live rebuild too.
            let page = try String(contentsOfFile: directory.path("report.html"), encoding: .utf8)
            #expect(page.contains("<section id=\"readiness\">") && page.contains("[clientSecrets]"))
            for file in files {
                let bytes = try Data(contentsOf: directory.url.appendingPathComponent(file))
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(!text.contains(target.secret), "the client secret is in \(file)")
                #expect(!text.contains(tokenHeader), "an access token is in \(file)")
            }
            let permissions = try FileManager.default.attributesOfItem(atPath: directory.path("requests.log"))[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            // The Temporary Access Passes Graph returned (logged with --log-bodies) are only in their 0600 file.
            let passesFile = directory.path("access-passes.csv")
            #expect(try FileManager.default.attributesOfItem(atPath: passesFile)[.posixPermissions] as? Int == 0o600)
            let passes = try String(contentsOfFile: passesFile, encoding: .utf8).split(separator: "\n").dropFirst()
                .compactMap { $0.split(separator: ",").last.map(String.init) }
            #expect(!passes.isEmpty)
            #expect(log.contains("temporaryAccessPass\":\"[REDACTED]"), "the pass is not in the log at all: was the response logged?")
            for file in files where file != "access-passes.csv" {
                let text = String(decoding: try Data(contentsOf: directory.url.appendingPathComponent(file)), as: UTF8.self)
                for pass in passes { #expect(!text.contains(pass), "a Temporary Access Pass is in \(file)") }
            }
        }
    }

    @Test func certificateSignInAndADryRunThatWritesNothing() async throws {
        let directory = try TemporaryDirectory("dry")
        let certificate = try TestCertificate.generate()
        try Data(certificate.privateKeyPEM.utf8).write(to: directory.url.appendingPathComponent("app.key"))
        try Data(certificate.certificatePEM.utf8).write(to: directory.url.appendingPathComponent("app.pem"))
        let target = try await ServedTarget.start(directory, certificates: [try RegisteredCertificate(pem: certificate.certificatePEM)])
        try await stopping(target) { target in

            let result = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "dry.sqlite",
                extra: [
                    "--certificate", directory.path("app.pem"), "--private-key", directory.path("app.key"), "--dry-run",
                ])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("Dry run complete: nothing was written"))
            #expect(result.stdout.contains("would write"))
            #expect(await target.tenant.writeCount == 0)
            #expect(await target.tenant.objects(ofType: "user").isEmpty)
            // A live run refuses to reuse a dry run's checkpoint.
            let live = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "dry.sqlite", extra: target.secretArguments + ["--confirm", target.tenant.initialDomain])
            #expect(live.status == 2 && live.stderr.contains("dry-run run"), "\(live.stderr)")
        }
    }

    /// The token's `roles` claim is read before the first write: an app without Policy.Read.All stops in preflight (exit 2),
    /// naming the permission and the stages that need it; a dry run stops the same way.
    @Test func aTokenWithoutAPermissionStopsThePreflight() async throws {
        let directory = try TemporaryDirectory("roles")
        let target = try await ServedTarget.start(directory, roles: FakeTenantPermissions.defaultGrants.filter { $0 != "Policy.Read.All" })
        try await stopping(target) { target in
            for (state, extra) in [("live.sqlite", ["--confirm", target.tenant.initialDomain]), ("dry.sqlite", ["--dry-run"])] {
                let result = try await target.rebuild("rebuild-new-tenant.yaml", state: state, extra: target.secretArguments + extra)
                #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
                #expect(
                    result.stderr.contains("Policy.Read.All") && result.stderr.contains("ca-policies")
                        && result.stderr.contains("named-locations"))
            }
            #expect(await target.tenant.writeCount == 0)
            let report = try await runLifeboat(["report", "--state", directory.path("live.sqlite"), "--format", "json"], in: directory)
            #expect(report.stdout.contains("permissionMissing"))
        }
    }

    @Test func safetyRailsRefuseBeforeAnyWrite() async throws {
        let directory = try TemporaryDirectory("rails")
        let target = try await ServedTarget.start(directory)
        try await stopping(target) { target in
            let domain = target.tenant.initialDomain

            // --tenant names another tenant than the credentials reach.
            let wrongTenant = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "a.sqlite", tenant: "fabrikam.onmicrosoft.com",
                extra: target.secretArguments + ["--confirm", domain])
            #expect(
                wrongTenant.status == 2 && wrongTenant.stderr.contains("fabrikam.onmicrosoft.com"),
                "\(wrongTenant.status) \(wrongTenant.stderr)")
            // The confirmation is not the target's initial domain.
            let wrongConfirmation = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "b.sqlite", extra: target.secretArguments + ["--confirm", "contoso.onmicrosoft.com"])
            #expect(
                wrongConfirmation.status == 2 && wrongConfirmation.stderr.contains("is not the target's initial domain"),
                "\(wrongConfirmation.stderr)")
            // No confirmation and no terminal to ask on.
            let unconfirmed = try await target.rebuild("rebuild-new-tenant.yaml", state: "c.sqlite", extra: target.secretArguments)
            #expect(unconfirmed.status == 2 && unconfirmed.stderr.contains("--confirm \(domain)"), "\(unconfirmed.stderr)")
            // An in-place runbook only restores into the snapshot's own tenant.
            let inPlace = try await target.rebuild(
                "restore-in-place.yaml", state: "d.sqlite", extra: target.secretArguments + ["--confirm", domain])
            #expect(inPlace.status == 2 && inPlace.stderr.contains("restores in place"), "\(inPlace.stderr)")
            // A snapshot that must be signed, and is not.
            let keygen = try await runLifeboat(["snapshot", "keygen", "--out", directory.path("signing")], in: directory)
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let unsigned = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "f.sqlite",
                extra: target.secretArguments + ["--confirm", domain, "--public-key", directory.path("signing.pub")])
            #expect(unsigned.status == 2 && unsigned.stderr.contains("the snapshot was refused"), "\(unsigned.stderr)")
            // The secret is never taken on the command line.
            let inline = try await target.rebuild("rebuild-new-tenant.yaml", state: "e.sqlite", extra: ["--client-secret", target.secret])
            #expect(inline.status == 64)
            #expect(await target.tenant.writeCount == 0)
        }
    }

    @Test func aRebuildRefusesTheSnapshotsOwnTenantButAnInPlaceRestoreRunsThere() async throws {
        let directory = try TemporaryDirectory("source")
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let target = try await ServedTarget.start(directory, seedFrom: snapshot)
        try await stopping(target) { target in
            let domain = target.tenant.initialDomain
            #expect(domain == snapshot.manifest.sourceInitialDomain)

            let rebuild = try await target.rebuild(
                "rebuild-new-tenant.yaml", state: "rebuild.sqlite", extra: target.secretArguments + ["--confirm", domain])
            #expect(rebuild.status == 2 && rebuild.stderr.contains("snapshot's own source tenant"), "\(rebuild.stderr)")
            #expect(await target.tenant.writeCount == 0)

            // A malicious admin deleted the Finance department and every security group; restore in place.
            let finance = try await target.tenant.delete(collection: "users", where: "department eq 'Finance'")
            let securityGroups = try await target.tenant.delete(collection: "groups", where: "startsWith(displayName,'SG-')")
            #expect(!finance.isEmpty && !securityGroups.isEmpty)
            let restore = try await target.rebuild(
                "restore-in-place.yaml", state: "in-place.sqlite", extra: target.secretArguments + ["--confirm", domain])
            #expect(restore.status == 0, "\(restore.stdout)\n\(restore.stderr)")
            let users = Set(await target.tenant.objects(ofType: "user").compactMap { $0["id"]?.stringValue })
            #expect(finance.allSatisfy { users.contains($0.id) }, "recycle-bin users keep their original ids")
            let groups = await target.tenant.objects(ofType: "group").compactMap { $0["displayName"]?.stringValue }
            #expect(securityGroups.allSatisfy { groups.contains($0.displayName) })
            #expect(await TenantPicture.of(target.tenant).duplicates.isEmpty)
        }
    }
}

/// The whole live path as an operator runs it: capture the production tenant, verify the signed snapshot, rebuild
/// into an empty recovery tenant, all over HTTP through the served fake.
@Suite struct CaptureVerifyRebuildTests {
    @Test func aCapturedSignedSnapshotRebuildsIntoAnEmptyTenantWithFullFidelity() async throws {
        let directory = try TemporaryDirectory("capture-rebuild")
        let sourceDirectory = try TemporaryDirectory("production")
        // "Production": Contoso with its original ids, served on its own port.
        let production = try await ServedTarget.start(sourceDirectory, seedFrom: try Snapshot.load(from: Fixtures.contoso))
        try await stopping(production) { production in
            let recovery = try await ServedTarget.start(directory)
            try await stopping(recovery) { recovery in
                #expect(try await runLifeboat(["snapshot", "keygen", "--out", "backup"], in: directory).status == 0)
                let capture = try await runLifeboat(
                    [
                        "snapshot", "capture", "--graph-url", production.root, "--authority-url", production.root, "--tenant",
                        production.tenant.tenantID,
                        "--client-id", ServedTarget.clientID, "--client-secret-file", production.secretFile, "--out", "snapshot",
                        "--sign-key", "backup.key",
                    ], in: directory)
                #expect(capture.status == 0, "\(capture.stdout)\n\(capture.stderr)")
                let verify = try await runLifeboat(["snapshot", "verify", "snapshot", "--public-key", "backup.pub"], in: directory)
                #expect(verify.status == 0, "\(verify.stderr)")

                let arguments = [
                    "rebuild", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", directory.path("snapshot"),
                    "--state", directory.path("live.sqlite"), "--public-key", "backup.pub", "--graph-url", recovery.root, "--authority-url",
                    recovery.root,
                    "--tenant", recovery.tenant.initialDomain, "--client-id", ServedTarget.clientID, "--client-secret-file",
                    recovery.secretFile,
                    "--confirm", recovery.tenant.initialDomain,
                    // A captured snapshot has no parameters.yaml: the operator names the accounts (issue 13 item 8, no Contoso defaults).
                    "--params", Fixtures.contoso.appendingPathComponent("parameters.yaml").path,
                ]
                var result = try await runLifeboat(arguments, in: directory)
                for gate in ["create-tenant", "security-defaults", "enable-ca"] where result.status == 3 {
                    #expect(
                        try await runLifeboat(
                            ["approve", "--state", directory.path("live.sqlite"), "--gate", gate, "--by", "tester"], in: directory
                        ).status == 0)
                    result = try await runLifeboat(arguments, in: directory)
                }
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                let status = try await runLifeboat(["status", "--state", directory.path("live.sqlite")], in: directory)
                #expect(!status.stdout.contains("verify-difference"), "\(status.stdout)")
                // The chain of custody says the signature was verified, and with which key.
                let report = try await runLifeboat(["report", "--state", directory.path("live.sqlite"), "--format", "json"], in: directory)
                let signature = try JSONCoding.decode(Data(report.stdout.utf8))["custody"]?["snapshot"]?["signature"]?.stringValue ?? ""
                #expect(
                    signature.hasPrefix("signed with Ed25519 key ") && signature.contains("verified against the operator's public key"),
                    "\(signature)")

                // The recovery tenant matches production modulo ids: same users, groups, memberships and owners by natural key.
                let source = await TenantPicture.of(production.tenant)
                let rebuilt = await TenantPicture.of(recovery.tenant)
                // UPNs on the source's *.onmicrosoft.com domain move to the recovery tenant's; the synced user stays behind.
                let expectedUsers = Dictionary(
                    source.users.filter { $0.key != "user:tom.becker@contoso.com" }.map {
                        ($0.key.replacingOccurrences(of: "@contoso.onmicrosoft.com", with: "@" + recovery.tenant.initialDomain), $0.value)
                    }, uniquingKeysWith: +)
                #expect(rebuilt.users == expectedUsers, "\(Set(rebuilt.users.keys).symmetricDifference(expectedUsers.keys))")
                // temporaryAccessPass.enable adds the recovery admins' group (the TAP method targets groups): not a copy of a source group.
                #expect(Set(rebuilt.groups.keys).subtracting(["group:lifeboat-recovery-admins"]).count == source.groups.count)
                #expect(rebuilt.duplicates.isEmpty)
            }
        }
    }
}

/// Ctrl-C during a run: it stops between operations, says how to go on, and the resume converges without duplicates.
@Suite struct InterruptTests {
    @Test func ctrlCStopsAtAnOperationBoundaryAndTheRunResumes() async throws {
        let directory = try TemporaryDirectory("ctrl-c")
        let generated = try await runLifeboat(
            ["fake-tenant", "generate", "--users", "3000", "--seed", "5", "--out", directory.path("tenant")], in: directory)
        #expect(generated.status == 0, "\(generated.stderr)")
        let arguments = [
            "tabletop", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", directory.path("tenant"),
            "--state", directory.path("drill.sqlite"), "--profile", "fast",
            // A generated tenant's Global Administrators are its break-glass accounts (issue 13 item 8: no defaults).
            "--param", "operator=bg-admin-01@contoso.onmicrosoft.com", "--param", "breakGlass1=bg-admin-01@contoso.onmicrosoft.com",
            "--param", "breakGlass2=bg-admin-02@contoso.onmicrosoft.com",
        ]
        let stopped = try await runLifeboat(arguments, in: directory, interruptWhenOutputContains: "users: Recreate member users")
        #expect(stopped.status == 130, "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(stopped.stderr.contains("Stopped cleanly during stage users"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("lifeboat resume --state"))
        let status = try await runLifeboat(["status", "--state", directory.path("drill.sqlite"), "--json"], in: directory)
        let json = try JSONCoding.decode(Data(status.stdout.utf8))
        #expect(json["run"]?["status"]?.stringValue == "pending")
        // A clean stop leaves no write in flight: the window it did not send went back to pending.
        let checkpoint = try CheckpointStore(path: directory.path("drill.sqlite"))
        #expect(try await checkpoint.operations(stageID: "users", state: .sent).isEmpty)
        #expect(try await checkpoint.operationCounts(stageID: "users")[.pending, default: 0] > 0)

        let resumed = try await runLifeboat(["resume", "--state", directory.path("drill.sqlite")], in: directory)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let tenant = try FakeTenant(stateFile: directory.path("drill.sqlite.fake-tenant.sqlite"))
        #expect(await TenantPicture.of(tenant).duplicates.isEmpty)
        let report = try await runLifeboat(["report", "--state", directory.path("drill.sqlite"), "--format", "json"], in: directory)
        #expect(report.stdout.contains("stopped-by-operator"), "the report names the stop")
    }
}
