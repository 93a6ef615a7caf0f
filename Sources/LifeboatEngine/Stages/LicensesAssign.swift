import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `licenses.assign`: gives restored users (and groups, for group-based licensing) the licences they had.
///
/// Only direct assignments are written to users: licences a user inherited from a group come back when the group's
/// own licences are assigned. Graph refuses a licence without the user's `usageLocation`, for a SKU the target has
/// not bought, or when the subscription has no free unit; each becomes a follow-up naming what to buy or set.
struct LicensesAssign: StageKind {
    static let spec = StageKindSpec(
        name: "licenses.assign",
        summary:
            "each user's **direct** licences (inherited ones come back with their group) and groups' licences, with `disabledPlans`; no `usageLocation`, a SKU the target has not bought, or a full subscription each become a follow-up",
        options: [
            OptionSpec("skuMap", .stringMap, "source skuId → target skuId, when the recovery tenant bought a different plan"),
            OptionSpec("groups", .bool, "also assign group-based licences to groups (default true)"),
        ] + ObjectSelection.options)

    let skuMap: [String: String]
    let includeGroups: Bool
    let selection: ObjectSelection
    let catalog = TargetSkus()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        var map: [String: String] = [:]
        for (source, target) in stage.options.stringMap("skuMap") ?? [:] {
            guard UUID(uuidString: source) != nil, UUID(uuidString: target) != nil else {
                throw StageConfigurationError(
                    stageID: stage.id, problem: "skuMap maps \(source) to \(target); both must be skuIds (GUIDs)",
                    hint: "read skuIds with GET /subscribedSkus in each tenant")
            }
            map[source.lowercased()] = target.lowercased()
        }
        skuMap = map
        includeGroups = stage.options.bool("groups") ?? true
        selection = ObjectSelection(stage.options)
    }

    /// The licences assigned to the object itself, not inherited from a group.
    static func directLicenses(_ properties: JSONObject) -> [JSONObject] {
        let assigned = properties["assignedLicenses"]?.arrayValue?.compactMap(\.objectValue) ?? []
        guard let states = properties["licenseAssignmentStates"]?.arrayValue?.compactMap(\.objectValue), !states.isEmpty else {
            return assigned
        }
        let direct = Set(states.filter { $0["assignedByGroup"]?.stringValue == nil }.compactMap { $0["skuId"]?.stringValue?.lowercased() })
        return assigned.filter { direct.contains($0["skuId"]?.stringValue?.lowercased() ?? "") }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let members = selection.members(in: snapshot)
        for user in snapshot.users where selection.selects(user, memberIDs: members) {
            let licenses = Self.directLicenses(
                [
                    "assignedLicenses": user[property: "assignedLicenses"] ?? .null,
                    "licenseAssignmentStates": user[property: "licenseAssignmentStates"] ?? .null,
                ])
            guard !licenses.isEmpty else { continue }
            let detail: JSONValue = ["licenses": .array(licenses.map(JSONValue.object)), "path": "users"]
            if user.onPremisesSyncEnabled { continue }  // not restored by Lifeboat; its licences follow it back from the sync
            if (user[property: "usageLocation"]?.stringValue ?? "").isEmpty {
                plan.operations.append(
                    PlannedOperation(
                        key: "license:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: nil, displayName: user.displayName,
                        detail: detail,
                        skip: FollowUp(
                            category: "license",
                            message: "\(user.userPrincipalName) has \(licenses.count) licences but no usageLocation in the snapshot",
                            action: "set the user's usageLocation (a two-letter country code), then assign the licences")))
                continue
            }
            plan.operations.append(
                PlannedOperation(
                    key: "license:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: nil,
                    displayName: user.displayName, detail: detail))
        }
        if includeGroups {
            for group in snapshot.groups {
                let licenses = group[property: "assignedLicenses"]?.arrayValue?.compactMap(\.objectValue) ?? []
                guard !licenses.isEmpty else { continue }
                plan.operations.append(
                    PlannedOperation(
                        key: "license:\(group.id)", objectType: nil, sourceID: group.id, naturalKey: nil,
                        displayName: group.displayName,
                        detail: ["licenses": .array(licenses.map(JSONValue.object)), "path": "groups"]))
            }
        }
        return plan
    }

    /// The licences to assign in the target: SKUs mapped, split by whether the target has them.
    func wanted(_ operation: PlannedOperation, available: Set<String>) -> (assign: [JSONObject], missing: [String]) {
        var assign: [JSONObject] = [], missing: [String] = []
        for license in operation.detail["licenses"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
            guard let source = license["skuId"]?.stringValue?.lowercased() else { continue }
            let sku = skuMap[source] ?? source
            if available.contains(sku) {
                assign.append(["skuId": .string(sku), "disabledPlans": license["disabledPlans"] ?? []])
            } else {
                missing.append(sku)
            }
        }
        return (assign, missing)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let path = operation.detail["path"]?.stringValue ?? "users"
        guard let id = context.idMap.newID(for: operation.sourceID) else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference",
                        message: "\(operation.displayName) was not restored, so its licences were not assigned",
                        action: "restore it, then rerun this stage")
                ])
        }
        let skus = try await catalog.skus(context.graph)
        let (assign, missing) = wanted(operation, available: Set(skus.keys))
        var followUps = missing.map { sku in
            FollowUp(
                category: "license", message: "\(operation.displayName) had licence SKU \(sku), which the target tenant has not bought",
                action: "buy the subscription (or map it with skuMap), then rerun this stage")
        }
        guard !assign.isEmpty else { return OperationOutcome(.skipped, followUps: followUps) }
        // An object this run created has no licences yet; one restored or found in place may already hold them.
        if context.idMap.entry(for: operation.sourceID)?.how != .created,
            try await held(path: path, id: id, graph: context.graph).isSuperset(of: assign.compactMap { $0["skuId"]?.stringValue })
        {
            return OperationOutcome(.unchanged, followUps: followUps)
        }
        do {
            _ = try await context.graph.send(
                GraphRequest(
                    "POST", "/\(path)/\(id)/assignLicense",
                    body: [
                        "addLicenses": .array(assign.map(JSONValue.object)), "removeLicenses": [],
                    ]))
        } catch let error as GraphError
            where error.status == 400 && (error.message.contains("available licenses") || error.message.contains("usage location"))
        {
            followUps.append(
                FollowUp(
                    category: "license", message: "\(operation.displayName): \(error.message)",
                    action: error.message.contains("usage location")
                        ? "set the user's usageLocation, then rerun this stage"
                        : "add licence units to the subscription, then rerun this stage"))
            return OperationOutcome(.skipped, followUps: followUps)
        }
        return OperationOutcome(.applied, followUps: followUps)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let path = operation.detail["path"]?.stringValue ?? "users"
        guard let id = context.idMap.newID(for: operation.sourceID) else { return nil }
        let (assign, _) = wanted(operation, available: Set(try await catalog.skus(context.graph).keys))
        let skus = assign.compactMap { $0["skuId"]?.stringValue }
        guard !skus.isEmpty else { return nil }
        return try await held(path: path, id: id, graph: context.graph).isSuperset(of: skus) ? OperationOutcome(.applied) : nil
    }

    /// The skuIds the target object holds now.
    private func held(path: String, id: String, graph: GraphClient) async throws -> Set<String> {
        let current = try await graph.get("/\(path)/\(id)", query: [QueryItem("$select", "id,assignedLicenses")])
        return Set((current["assignedLicenses"]?.arrayValue ?? []).compactMap { $0["skuId"]?.stringValue?.lowercased() })
    }
}

/// The target's subscriptions, read once per run: skuId → skuPartNumber.
actor TargetSkus {
    private var loaded: Task<[String: String], any Error>?

    func skus(_ graph: GraphClient) async throws -> [String: String] {
        if loaded == nil {
            loaded = Task {
                let items = try await graph.list("/subscribedSkus", query: [QueryItem("$select", "skuId,skuPartNumber")])
                return Dictionary(
                    items.compactMap { item in
                        item["skuId"]?.stringValue.map { ($0.lowercased(), item["skuPartNumber"]?.stringValue ?? $0) }
                    }, uniquingKeysWith: { first, _ in first })
            }
        }
        do {
            return try await loaded!.value
        } catch {
            loaded = nil
            throw error
        }
    }
}
