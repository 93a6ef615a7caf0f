import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `groups.create`: recreates security, Microsoft 365, dynamic and role-assignable groups by upsert on
/// `uniqueName`, so a retried or resumed write can never make a second group.
struct GroupsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "groups.create",
        summary:
            "security, Microsoft 365, dynamic (rule kept) and role-assignable groups, by upsert on `uniqueName` (`lifeboat-<old id>` when the source has none); mail-enabled security groups become follow-ups",
        options: [
            OptionSpec("uniqueNamePrefix", .string, "prefix of the uniqueName given to groups that have none (default `lifeboat-`)")
        ] + ObjectSelection.options)

    let prefix: String
    let stageID: String

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
        stageID = stage.id
        prefix = stage.options.string("uniqueNamePrefix") ?? "lifeboat-"
    }

    func uniqueName(_ group: Group) -> String { group.uniqueName ?? "\(prefix)\(group.id)" }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) throws(StageConfigurationError) -> StagePlan {
        var plan = StagePlan()
        var nicknames: [String: String] = [:]
        let members = selection.members(in: snapshot)
        for group in snapshot.groups where selection.selects(group, memberIDs: members) {
            let name = uniqueName(group)
            var skip: FollowUp?
            if group.mailEnabled && !group.isUnified {
                skip = FollowUp(
                    category: "mail-enabled-security-group",
                    message: "\(group.displayName) is a mail-enabled security group or distribution list, which Graph cannot create",
                    action: "recreate it in Exchange Online (New-DistributionGroup) and rerun to restore its members")
            }
            if group[property: "onPremisesSyncEnabled"]?.boolValue == true {
                skip = FollowUp(
                    category: "synced-object", message: "\(group.displayName) is synced from on-premises Active Directory",
                    action: "restore it in on-premises AD and let Entra Connect sync it")
            }
            if group.isUnified, skip == nil {
                if let other = nicknames[group.mailNickname.lowercased()] {
                    throw StageConfigurationError(
                        stageID: stageID,
                        problem: "Microsoft 365 groups \(other) and \(group.displayName) share mailNickname \(group.mailNickname)")
                }
                nicknames[group.mailNickname.lowercased()] = group.displayName
            }
            plan.operations.append(
                PlannedOperation(
                    key: "group:\(group.id)", objectType: .group, sourceID: group.id, naturalKey: name, displayName: group.displayName,
                    detail: ["uniqueName": .string(name)], skip: skip))
        }
        let dynamic = snapshot.groups.filter(\.isDynamic).count
        if dynamic > 0 { plan.warnings.append("\(dynamic) dynamic groups keep their rule; Entra recomputes their members") }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let group = context.index.groups[operation.sourceID], let name = operation.naturalKey else {
            throw StageOperationError(code: "SnapshotMismatch", message: "group \(operation.sourceID) is not in the snapshot")
        }
        var body = WritableProperties.pick(group.properties, WritableProperties.group)
        if !group.isDynamic {
            body["membershipRule"] = nil
            body["membershipRuleProcessingState"] = nil
        }
        let response = try await context.graph.send(
            GraphRequest(
                "PATCH", "/groups(uniqueName=\(GraphClient.literal(name)))", headers: ["Prefer": "create-if-missing"], body: .object(body)))
        if response.status == 201, let id = response.object["id"]?.stringValue {
            return OperationOutcome(.created, newID: id)
        }
        // 204: a group with this uniqueName already existed and was updated (Graph's lists may not show it yet).
        if let adopted = try await TargetLookup.settling(context.graph, { try await reconcile(operation, in: context) }) { return adopted }
        throw StageOperationError(code: "UpsertUnconfirmed", message: "the upsert of \(name) succeeded but the group cannot be found")
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let name = operation.naturalKey,
            let found = try await TargetLookup.find(context.graph, "/groups", where: "uniqueName", equals: name),
            let id = found["id"]?.stringValue
        else { return nil }
        return OperationOutcome(.adopted, newID: id)
    }
}
