import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `users.rename`: once custom domains are verified, moves users created on a mapped domain back to
/// their original UPN. Users whose domain is still unverified are left on the mapped UPN, with a follow-up.
struct UsersRename: StageKind {
    static let spec = StageKindSpec(
        name: "users.rename",
        summary:
            "moves UPNs back to their original domain once it is verified in the target; users of a domain still unverified stay, with one follow-up per domain",
        options: [
            OptionSpec("upnDomainMap", .stringMap, "the same map users.create used"),
            OptionSpec("otherDomainsTo", .string, "the same value users.create used"),
        ] + ObjectSelection.options)

    let create: UsersCreate
    let selection: ObjectSelection
    /// Whether each target domain is verified, read once per stage rather than before every rename.
    let verifiedDomains = SharedReads<Bool>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        create = try UsersCreate(stage: stage)
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        let members = selection.members(in: snapshot)
        var plan = StagePlan()
        for user in snapshot.users where !user.isGuest && !user.onPremisesSyncEnabled && selection.selects(user, memberIDs: members) {
            let mapped = create.targetUPN(user)
            // A *.onmicrosoft.com UPN belongs to the source tenant: it stays on the target's initial domain.
            guard mapped.lowercased() != user.userPrincipalName.lowercased(), !user.upnDomain.hasSuffix(".onmicrosoft.com") else {
                continue
            }
            plan.operations.append(
                PlannedOperation(
                    key: "rename:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: user.userPrincipalName,
                    displayName: user.displayName,
                    detail: ["from": .string(mapped), "to": .string(user.userPrincipalName), "domain": .string(user.upnDomain)]))
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let id = context.idMap.newID(for: operation.sourceID), let upn = operation.detail["to"]?.stringValue,
            let domain = operation.detail["domain"]?.stringValue
        else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference", message: "\(operation.displayName) was not restored",
                        action: "restore the user first")
                ])
        }
        // Created on its final UPN (its domain was verified by then) or adopted under it: the ID map says so, nothing to write.
        if context.idMap.entry(for: operation.sourceID)?.naturalKey?.lowercased() == upn.lowercased() {
            return OperationOutcome(.unchanged, newID: id)
        }
        // A domain the target does not have is "not verified" for the whole stage; any other failed read is retried by the next user.
        let verified =
            (try? await verifiedDomains.value(domain.lowercased()) {
                do {
                    return try await context.graph.get("/domains/\(domain)")["isVerified"]?.boolValue == true
                } catch let error as GraphError where error.isNotFound {
                    return false
                }
            }) ?? false
        guard verified else {
            // One follow-up per domain (finish), not one per user.
            return OperationOutcome(.skipped, note: "stays on \(operation.detail["from"]?.stringValue ?? "?"): \(domain) is not verified")
        }
        _ = try await context.graph.send(GraphRequest("PATCH", "/users/\(id)", body: ["userPrincipalName": .string(upn)]))
        return OperationOutcome(.applied, newID: id)
    }

    /// One follow-up per domain whose users stayed on the recovery domain.
    func finish(in context: StageContext) async throws {
        var byDomain: [String: [String]] = [:]
        for record in try await context.checkpoint.allOperations(stageID: context.stage.id) where record.result == .skipped {
            guard let domain = record.planned.detail["domain"]?.stringValue else { continue }
            byDomain[domain.lowercased(), default: []].append(record.planned.detail["from"]?.stringValue ?? record.planned.displayName)
        }
        for (domain, users) in byDomain.sorted(by: { $0.key < $1.key }) {
            try await context.checkpoint.addFollowUp(
                FollowUp(
                    category: "domain-unverified",
                    message:
                        "\(users.count) users of \(domain) stay on the recovery domain (e.g. \(users.prefix(3).joined(separator: ", "))) because \(domain) is not verified",
                    action:
                        "verify \(domain) (see the domains.verify follow-up), then rename these users back to their @\(domain) UPNs (the snapshot and the ID map list them)"
                ),
                stageID: context.stage.id)
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let id = context.idMap.newID(for: operation.sourceID) else { return nil }
        let user = try await context.graph.get("/users/\(id)", query: [QueryItem("$select", "id,userPrincipalName")])
        return user["userPrincipalName"]?.stringValue?.lowercased() == operation.naturalKey?.lowercased()
            ? OperationOutcome(.applied, newID: id) : nil
    }
}
