import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `users.accessPasses`: a Temporary Access Pass for each admin the runbook names, so they can sign in to the
/// rebuilt tenant and register MFA without a password. The passes go to a 0600 secrets file.
///
/// Graph keeps one pass per user and returns its value only when it is created. So a pass whose value this run
/// does not hold (left by an earlier, interrupted attempt) is deleted and replaced: there is never more than one,
/// and the file always holds the live one (the last line for a user wins).
struct UsersAccessPasses: StageKind {
    static let spec = StageKindSpec(
        name: "users.accessPasses",
        summary:
            "a Temporary Access Pass for each named admin, so they can sign in and register MFA; the value goes only to the 0600 file (a relative path lands next to the checkpoint). Graph holds one pass per user and shows its value once, so a pass left by an interrupted attempt is replaced, never duplicated",
        options: [
            OptionSpec("users", .stringList, "source UPNs of the users who get a pass (e.g. the recovery admins)", required: true),
            OptionSpec(
                "secretsFile", .string, "0600 file that receives each pass (relative paths are next to the checkpoint database)",
                required: true),
            OptionSpec("lifetime", .duration, "how long each pass works, 10m to 30d (default 8h)"),
            OptionSpec("usableOnce", .bool, "a pass works for one sign-in only (default false)"),
        ])

    let upns: [String]
    let secretsPath: String
    let files = SecretsFiles()
    let lifetimeMinutes: Int
    let usableOnce: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        upns = (stage.options.stringList("users") ?? []).map { $0.lowercased() }
        guard !upns.isEmpty else {
            throw StageConfigurationError(stageID: stage.id, problem: "users names nobody", hint: "list the admins' source UPNs")
        }
        secretsPath = stage.options.string("secretsFile") ?? ""
        let lifetime = stage.options.duration("lifetime") ?? 8 * 3_600
        guard (600...(30 * 86_400)).contains(lifetime) else {
            throw StageConfigurationError(stageID: stage.id, problem: "lifetime must be between 10m and 30d (Graph's limits)")
        }
        lifetimeMinutes = Int(lifetime / 60)
        usableOnce = stage.options.bool("usableOnce") ?? false
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        let byUPN = Dictionary(snapshot.users.map { ($0.userPrincipalName.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        var plan = StagePlan()
        for upn in upns {
            guard let user = byUPN[upn] else {
                // A recovery admin may be new (hired after the backup): the run goes on, and says so.
                let close = byUPN.keys.filter { $0.split(separator: "@").first == upn.split(separator: "@").first }.sorted()
                plan.warnings.append(
                    "\(upn) is not a user in the snapshot" + (close.isEmpty ? "" : "; did you mean \(close.joined(separator: " or "))?"))
                plan.operations.append(
                    PlannedOperation(
                        key: "tap:\(upn)", objectType: nil, sourceID: upn, naturalKey: nil, displayName: upn,
                        skip: FollowUp(
                            category: "credentials", message: "\(upn) is not in the snapshot, so it got no Temporary Access Pass",
                            action: "create the admin account by hand and issue it a pass, or fix the UPN in the runbook")))
                continue
            }
            if user.isGuest || user.onPremisesSyncEnabled {
                plan.operations.append(
                    PlannedOperation(
                        key: "tap:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: nil, displayName: user.displayName,
                        skip: FollowUp(
                            category: "credentials",
                            message: "\(upn) is a \(user.isGuest ? "guest" : "synced user"); Lifeboat issues passes only to cloud members",
                            action: user.isGuest ? "the guest signs in with their home account" : "sign in once the account is synced back")
                    ))
                continue
            }
            plan.operations.append(
                PlannedOperation(
                    key: "tap:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: nil, displayName: user.displayName,
                    detail: ["userPrincipalName": .string(upn)]))
        }
        return plan
    }

    private func methodsPath(_ userID: String) -> String { "/users/\(userID)/authentication/temporaryAccessPassMethods" }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let userID = context.idMap.newID(for: operation.sourceID) else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference",
                        message: "\(operation.displayName) was not restored, so no Temporary Access Pass was issued",
                        action: "restore the account, then rerun this stage")
                ])
        }
        // The secrets file is checked before a pass exists whose value could not be kept.
        try await files.file(secretsPath, relativeTo: context.outputDirectory).prepare()
        // A pass whose value this run never wrote down is useless to the operator: replace it.
        for existing in try await context.graph.list(methodsPath(userID)) {
            guard let id = existing["id"]?.stringValue else { continue }
            do {
                _ = try await context.graph.send(GraphRequest("DELETE", "\(methodsPath(userID))/\(id)"))
            } catch let error as GraphError where error.kind == .ambiguous || error.isNotFound {
                // Gone either way, or it is still there and the create below says so (and the executor retries).
            }
        }
        let created = try await context.graph.send(
            GraphRequest(
                "POST", methodsPath(userID),
                body: [
                    "lifetimeInMinutes": .number(Double(lifetimeMinutes)), "isUsableOnce": .bool(usableOnce),
                ])
        ).object
        guard let pass = created["temporaryAccessPass"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "Graph created the pass but returned no value")
        }
        let upn = operation.detail["userPrincipalName"]?.stringValue ?? operation.displayName
        try await files.file(secretsPath, relativeTo: context.outputDirectory).append(
            kind: "temporary-access-pass", subject: upn, secret: pass)
        let expires = created["startDateTime"]?.stringValue.map { " from \($0)" } ?? ""
        return OperationOutcome(.applied, note: "pass valid \(lifetimeMinutes) minutes\(expires)\(usableOnce ? ", one sign-in" : "")")
    }

    /// The value of a pass is never readable after creation, so an interrupted attempt is always redone (and its pass replaced).
    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }

    func finish(in context: StageContext) async throws {
        let issued = try await context.checkpoint.operationCounts(stageID: context.stage.id)[.done, default: 0]
        guard issued > 0 else { return }
        try await context.checkpoint.addFollowUp(
            FollowUp(
                category: "credentials",
                message:
                    "\(issued) Temporary Access Passes are in \(await files.file(secretsPath, relativeTo: context.outputDirectory).url.path)",
                action: "hand each pass to its admin over a trusted channel, have them register MFA, then delete the file"),
            stageID: context.stage.id)
    }
}

/// One ``SecretsFile`` per path, opened when a stage first writes to it.
actor SecretsFiles {
    private var open: [URL: SecretsFile] = [:]

    /// The file at `path`; a relative path is resolved against `directory` (the run's output directory).
    func file(_ path: String, relativeTo directory: URL) -> SecretsFile {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
        if let file = open[url] { return file }
        let file = SecretsFile(url: url)
        open[url] = file
        return file
    }
}
