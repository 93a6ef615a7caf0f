import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `apps.create`: recreates application registrations by upsert on `uniqueName`, keeping the ids of their
/// app roles and delegated scopes so that assignments, grants and tokens' `roles`/`scp` claims still match.
///
/// The target gives each application a new appId, so `api://{oldAppId}` identifier URIs are set right after the
/// create (Graph refuses an `api://` GUID that is not the app's own). Public certificates come back when the
/// snapshot holds their key, federated identity credentials always; client secrets never: each becomes a
/// follow-up, or, with `issueSecrets`, a new secret written to a 0600 file.
struct AppsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "apps.create",
        summary:
            "application registrations, by upsert on `uniqueName` (`lifeboat-<old id>` when the source has none), with their appRole and scope ids; identifier URIs in two steps, like UPNs: `api://{oldAppId}` rewritten to the new appId, hosts on the source's `*.onmicrosoft.com` moved to the target's initial domain, `http(s)` URIs on a domain not verified yet left out with a follow-up (Graph refuses them, `HostNameNotOnVerifiedDomain`); certificates whose public key was captured; federated identity credentials. Client secrets and certificates without a key become follow-ups",
        options: [
            OptionSpec("uniqueNamePrefix", .string, "prefix of the uniqueName given to applications that have none (default `lifeboat-`)"),
            OptionSpec(
                "issueSecrets", .bool,
                "issue one new client secret per old one with addPassword (default false: each old secret is a follow-up)"),
            OptionSpec("secretsFile", .string, "0600 file that receives `appId,displayName,secret` lines; required with issueSecrets"),
        ] + ObjectSelection.whereOnly)

    let prefix: String
    let issueSecrets: Bool
    let secretsFile: String?
    let secrets: SecretsFile?
    let selection: ObjectSelection
    let stageID: String
    /// The target's verified and initial domains, read once per stage.
    let domains = SharedReads<IdentifierURIs.TargetDomains>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        stageID = stage.id
        selection = ObjectSelection(stage.options)
        prefix = stage.options.string("uniqueNamePrefix") ?? "lifeboat-"
        issueSecrets = stage.options.bool("issueSecrets") ?? false
        secretsFile = stage.options.string("secretsFile")
        if issueSecrets, secretsFile == nil {
            throw StageConfigurationError(
                stageID: stage.id, problem: "issueSecrets needs secretsFile: a new secret is shown once and must be kept somewhere",
                hint: "add `secretsFile: /secure/place/app-secrets.csv` (created with mode 0600)")
        }
        secrets = issueSecrets ? secretsFile.map { SecretsFile(url: URL(fileURLWithPath: $0)) } : nil
    }

    func uniqueName(_ app: Application) -> String { app.uniqueName ?? "\(prefix)\(app.id)" }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) throws(StageConfigurationError) -> StagePlan {
        var plan = StagePlan()
        var names: [String: String] = [:]
        var secretCount = 0
        for app in snapshot.applications where selection.selects(app, memberIDs: []) {
            let name = uniqueName(app)
            if let other = names[name.lowercased()] {
                throw StageConfigurationError(
                    stageID: stageID, problem: "applications \(other) and \(app.displayName) share uniqueName \(name)")
            }
            names[name.lowercased()] = app.displayName
            secretCount += app.properties["passwordCredentials"]?.arrayValue?.count ?? 0
            plan.operations.append(
                PlannedOperation(
                    key: "application:\(app.id)", objectType: .application, sourceID: app.id, naturalKey: name,
                    displayName: app.displayName,
                    detail: ["appId": .string(app.appId), "uniqueName": .string(name)]))
        }
        if secretCount > 0 {
            plan.warnings.append(
                issueSecrets
                    ? "\(secretCount) client secrets will be issued anew and written to \(secretsFile ?? "")"
                    : "\(secretCount) client secrets cannot be restored; each becomes a follow-up (or set issueSecrets: true)")
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let (app, name) = try source(operation, in: context)
        // In place, an application that survived keeps its id but carries no `lifeboat-…` uniqueName: adopt it, never copy it.
        if app.uniqueName == nil, let existing = try await stillPresent(app, in: context) {
            return try await complete(app, target: existing, result: .adopted, in: context)
        }
        let response = try await context.graph.send(
            GraphRequest(
                "PATCH", "/applications(uniqueName=\(GraphClient.literal(name)))", headers: ["Prefer": "create-if-missing"],
                body: .object(Self.createBody(app))))
        if response.status == 201, response.object["id"]?.stringValue != nil {
            return try await complete(app, target: response.object, result: .created, in: context)
        }
        // 204: an application with this uniqueName already existed and was updated. Graph's lists may not show it yet.
        guard let found = try await TargetLookup.settling(context.graph, { try await lookup(name, in: context) }) else {
            throw StageOperationError(
                code: "UpsertUnconfirmed", message: "the upsert of \(name) succeeded but the application cannot be found")
        }
        return try await complete(app, target: found, result: .adopted, in: context)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let (app, name) = try source(operation, in: context)
        guard let found = try await lookup(name, in: context) else { return nil }
        // The create landed; what follows it (identifier URIs, credentials) is idempotent and is finished here.
        return try await complete(app, target: found, result: .adopted, in: context)
    }

    private func stillPresent(_ app: Application, in context: StageContext) async throws -> JSONObject? {
        do {
            return try await context.graph.get("/applications/\(app.id)")
        } catch let error as GraphError where error.status == 404 {
            return nil
        }
    }

    private func source(_ operation: PlannedOperation, in context: StageContext) throws -> (Application, String) {
        guard let app = context.snapshot.applications.first(where: { $0.id == operation.sourceID }), let name = operation.naturalKey else {
            throw StageOperationError(code: "SnapshotMismatch", message: "application \(operation.sourceID) is not in the snapshot")
        }
        return (app, name)
    }

    private func lookup(_ name: String, in context: StageContext) async throws -> JSONObject? {
        try await TargetLookup.find(
            context.graph, "/applications", where: "uniqueName", equals: name,
            select: "id,appId,displayName,identifierUris,passwordCredentials")
    }

    // MARK: The create body

    /// Whether a URI names the application's old appId (`api://{appId}`, `api://{appId}/scope`, …).
    static func mentions(_ appId: String, _ uri: String) -> Bool { uri.range(of: appId, options: .caseInsensitive) != nil }

    /// The certificates that can come back: those whose public key the snapshot holds.
    static func restorableKeys(_ app: Application) -> [JSONValue] {
        (app.properties["keyCredentials"]?.arrayValue ?? []).filter { $0["key"]?.stringValue?.isEmpty == false }
    }

    /// The writable properties of the snapshot's application, without what the target refuses before it exists.
    static func createBody(_ app: Application) -> JSONObject {
        var body = WritableProperties.pick(app.properties, WritableProperties.application)
        // `api://{oldAppId}` is refused until the new appId exists, and an http(s) host until its domain is verified:
        // identifier URIs are set right after the create, those the target accepts (IdentifierURIs).
        body["identifierUris"] = nil
        if body["keyCredentials"] != nil {
            let keys = restorableKeys(app)
            body["keyCredentials"] = .array(keys)
            if let token = body["tokenEncryptionKeyId"]?.stringValue, !keys.contains(where: { $0["keyId"]?.stringValue == token }) {
                body["tokenEncryptionKeyId"] = nil
            }
        }
        if var info = body["info"]?.objectValue {
            info["logoUrl"] = nil  // read-only: set by uploading a logo
            body["info"] = .object(info)
        }
        return body
    }

    // MARK: What follows the create

    /// Finishes an application that exists in the target: identifier URIs, federated credentials, secrets, follow-ups.
    private func complete(_ app: Application, target: JSONObject, result: OperationOutcome.Result, in context: StageContext) async throws
        -> OperationOutcome
    {
        guard let id = target["id"]?.stringValue, let newAppID = target["appId"]?.stringValue else {
            throw StageOperationError(
                code: "MalformedResponse", message: "the application \(app.displayName) came back without id or appId")
        }
        var followUps: [FollowUp] = []
        let (rewritten, uriFollowUps) = try await restoreIdentifierURIs(
            app, id: id, newAppID: newAppID, current: target["identifierUris"]?.stringArray,
            in: context)
        followUps += uriFollowUps
        followUps += try await restoreFederatedCredentials(app, id: id, in: context)
        followUps += certificateFollowUps(app, newAppID: newAppID)
        followUps += try await restoreSecrets(
            app, id: id, newAppID: newAppID, current: target["passwordCredentials"]?.arrayValue ?? [], in: context)
        return OperationOutcome(
            result, newID: id, newAppID: newAppID, followUps: followUps,
            note: rewritten ? "identifierUris rewritten to the new appId \(newAppID)" : nil)
    }

    /// Sets the identifier URIs the target accepts now (IdentifierURIs); `true` when any were set. Those on domains not
    /// verified yet become a follow-up, and apps.identifierUris adds them later.
    private func restoreIdentifierURIs(_ app: Application, id: String, newAppID: String, current: [String]?, in context: StageContext)
        async throws
        -> (rewritten: Bool, followUps: [FollowUp])
    {
        guard !(app.properties["identifierUris"]?.stringArray ?? []).isEmpty else { return (false, []) }
        let target = try await domains.value("domains") { try await IdentifierURIs.TargetDomains.read(context.graph) }
        let (now, deferred) = IdentifierURIs.split(app, newAppID: newAppID, snapshot: context.snapshot, target: target)
        _ = try await IdentifierURIs.set(now, applicationID: id, current: current, in: context)
        let rewritten = (app.properties["identifierUris"]?.stringArray ?? []).contains { Self.mentions(app.appId, $0) }
        return (rewritten, deferred.isEmpty ? [] : [IdentifierURIs.waiting(app, deferred)])
    }

    /// Not `claimsMatchingExpression`: it is not a property of federatedIdentityCredential in v1.0
    /// (resources/federatedidentitycredential.md, the CSDL); Graph v1.0 refuses it.
    static let federatedCredentialProperties: Set<String> = ["name", "issuer", "subject", "audiences", "description"]

    /// Recreates the federated identity credentials the target does not have yet (matched by name).
    private func restoreFederatedCredentials(_ app: Application, id: String, in context: StageContext) async throws -> [FollowUp] {
        let credentials = (app.properties["federatedIdentityCredentials"]?.arrayValue ?? []).compactMap(\.objectValue)
        guard !credentials.isEmpty else { return [] }
        let path = "/applications/\(id)/federatedIdentityCredentials"
        func names() async throws -> Set<String> {
            try await FollowOnWrite.readingJustCreated(in: context) {
                Set(try await context.graph.list(path).compactMap { $0["name"]?.stringValue })
            }
        }
        let existing = try await names()
        var followUps: [FollowUp] = []
        let sourceTenant = context.snapshot.manifest.sourceTenantId
        for credential in credentials {
            guard let name = credential["name"]?.stringValue else { continue }
            if let issuer = credential["issuer"]?.stringValue, issuer.range(of: sourceTenant, options: .caseInsensitive) != nil {
                followUps.append(
                    FollowUp(
                        category: "federated-credential",
                        message:
                            "federated credential '\(name)' of \(app.displayName) trusts tokens issued by the source tenant (\(issuer))",
                        action: "point its issuer at the tenant that now issues those tokens, or delete it if the workload moved"))
            }
            guard !existing.contains(name) else { continue }
            let body = WritableProperties.pick(credential, Self.federatedCredentialProperties)
            do {
                try await FollowOnWrite.send(GraphRequest("POST", path, body: .object(body)), in: context) {
                    try await names().contains(name)
                }
            } catch let error as GraphError where error.status == 409 {
                // Created by an earlier attempt whose response was lost.
            }
        }
        return followUps
    }

    /// Certificates whose public key the snapshot does not hold, and a token-encryption key that went with them.
    private func certificateFollowUps(_ app: Application, newAppID: String) -> [FollowUp] {
        var followUps: [FollowUp] = []
        let keys = app.properties["keyCredentials"]?.arrayValue ?? []
        for key in keys where key["key"]?.stringValue?.isEmpty != false {
            let name = key["displayName"]?.stringValue ?? key["keyId"]?.stringValue ?? "certificate"
            let thumbprint = key["customKeyIdentifier"]?.stringValue.map { " (thumbprint \($0))" } ?? ""
            let expiry = key["endDateTime"]?.stringValue.map { ", expires \($0)" } ?? ""
            followUps.append(
                FollowUp(
                    category: "certificate",
                    message:
                        "certificate '\(name)'\(thumbprint)\(expiry) of \(app.displayName) was not restored: the snapshot holds no public key for it",
                    action:
                        "re-upload certificate \(name) (its .cer public key) to \(app.displayName), new appId \(newAppID); the workload keeps its private key"
                ))
        }
        if let token = app.properties["tokenEncryptionKeyId"]?.stringValue,
            !Self.restorableKeys(app).contains(where: { $0["keyId"]?.stringValue == token })
        {
            followUps.append(
                FollowUp(
                    category: "certificate",
                    message: "\(app.displayName) encrypted tokens with key \(token), which was not restored",
                    action: "re-upload that certificate and set tokenEncryptionKeyId on \(app.displayName) again"))
        }
        return followUps
    }

    /// Client secrets: follow-ups, or new secrets (one per old one, same display name) written to the secrets file.
    private func restoreSecrets(_ app: Application, id: String, newAppID: String, current: [JSONValue], in context: StageContext)
        async throws -> [FollowUp]
    {
        let old = app.properties["passwordCredentials"]?.arrayValue ?? []
        guard !old.isEmpty else { return [] }
        var followUps: [FollowUp] = []
        let issued = Set(current.compactMap { $0["displayName"]?.stringValue })
        let written = issueSecrets ? writtenSecrets() : []
        for (number, credential) in old.enumerated() {
            let name = Self.fileField(credential["displayName"]?.stringValue ?? "secret \(number + 1)")
            let hint = credential["hint"]?.stringValue.map { " (hint \($0)…)" } ?? ""
            let described = "secret '\(name)'\(hint) of \(app.displayName)"
            guard let secrets, let secretsFile else {
                followUps.append(
                    FollowUp(
                        category: "client-secret", message: "\(described) must be reissued: Graph never returns secret values",
                        action:
                            "issue a new client secret for \(app.displayName) (new appId \(newAppID)) and update the apps and key vaults that use it"
                    ))
                continue
            }
            let lost = FollowUp(
                category: "client-secret", message: "a new \(described) was issued but its value never arrived",
                action: "delete that secret from \(app.displayName) (new appId \(newAppID)), issue another and update the apps that use it")
            if issued.contains(name) {
                if !written.contains("\(CSVField.quoted(newAppID)),\(CSVField.quoted(name))") { followUps.append(lost) }
                continue
            }
            try await secrets.prepare()
            do {
                let response = try await context.graph.send(
                    GraphRequest(
                        "POST", "/applications/\(id)/addPassword", body: ["passwordCredential": ["displayName": .string(name)]]))
                guard let secret = response.object["secretText"]?.stringValue else {
                    followUps.append(lost)
                    continue
                }
                try await secrets.append(kind: newAppID, subject: name, secret: secret)
                followUps.append(
                    FollowUp(
                        category: "client-secret", message: "\(described) was reissued; the new value is in \(secretsFile)",
                        action: "update the apps and key vaults that use it with the new value, then remove it from \(secretsFile)"))
            } catch let error as GraphError where error.kind == .ambiguous {
                followUps.append(lost)
            }
        }
        return followUps
    }

    /// `appId,displayName` of the secrets already in the secrets file.
    private func writtenSecrets() -> Set<String> {
        guard let secretsFile, let text = try? String(contentsOfFile: secretsFile, encoding: .utf8) else { return [] }
        return Set(
            text.split(separator: "\n").map { line in
                line.split(separator: ",", omittingEmptySubsequences: false).prefix(2).joined(separator: ",")
            })
    }

    /// A value safe in one field of the comma-separated secrets file.
    static func fileField(_ text: String) -> String {
        String(text.map { $0 == "," || $0.isNewline ? " " : $0 })
    }
}
