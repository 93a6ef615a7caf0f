import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `authenticationStrengths.create`: recreates the custom authentication strengths the snapshot's Conditional Access
/// policies require, before the policies (which then reference them by id). A captured policy carries the whole
/// strength object (displayName, allowedCombinations, policyType); built-in strengths have the same ids in every
/// tenant and are not created (authenticationstrengthroot-post-policies.md, resources/authenticationstrengthpolicy.md).
///
/// Strengths have no alternate key: a strength whose create may have landed is found again by display name.
struct AuthenticationStrengthsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "authenticationStrengths.create",
        summary:
            "the custom authentication strengths the snapshot's policies require (taken from the policies' captured strength objects); built-in strengths keep their ids and are not created",
        options: [adoptOption])

    static let collection = "/policies/authenticationStrengthPolicies"
    static let keyPrefix = "authStrength:"
    let adoptExisting: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        adoptExisting = stage.options.bool("adoptExisting") ?? true
    }

    /// The custom strengths the policies of a snapshot require, by source id (first occurrence wins).
    static func customStrengths(_ snapshot: Snapshot) -> [(id: String, strength: JSONObject)] {
        var seen: Set<String> = []
        var result: [(String, JSONObject)] = []
        for policy in snapshot.conditionalAccessPolicies {
            guard let strength = policy.properties["grantControls"]?["authenticationStrength"]?.objectValue,
                let id = strength["id"]?.stringValue, !PolicyReferences.builtInStrengthIDs.contains(id),
                strength["policyType"]?.stringValue != "builtIn", !seen.contains(id)
            else { continue }
            seen.insert(id)
            result.append((id, strength))
        }
        return result
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: Self.customStrengths(snapshot).map { id, strength in
                let name = strength["displayName"]?.stringValue ?? id
                return PlannedOperation(key: "\(Self.keyPrefix)\(id)", objectType: nil, sourceID: id, naturalKey: name, displayName: name)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        guard let strength = Self.customStrengths(context.snapshot).first(where: { $0.id == operation.sourceID })?.strength else {
            throw StageOperationError(
                code: "SnapshotMismatch", message: "authentication strength \(operation.sourceID) is not in the snapshot's policies")
        }
        var body: JSONObject = ["displayName": .string(operation.naturalKey ?? operation.sourceID)]
        if let description = strength["description"], !description.isNull { body["description"] = description }
        body["allowedCombinations"] = strength["allowedCombinations"] ?? []
        let created = try await context.graph.send(GraphRequest("POST", Self.collection, body: .object(body)))
        guard let id = created.object["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "no id returned")
        }
        return OperationOutcome(.created, newID: id)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await DisplayNameLookup.adopt(operation, in: context, collection: Self.collection)
    }

    /// Source id → target id of every custom strength restored in this run (from the checkpoint, whichever stage did it).
    static func restored(in checkpoint: CheckpointStore) async throws -> [String: String] {
        var map: [String: String] = [:]
        // Only this kind's stages: a large run holds hundreds of thousands of other operations.
        for stage in try await checkpoint.stages() where stage.kind == spec.name {
            for record in try await checkpoint.allOperations(stageID: stage.id) where record.planned.key.hasPrefix(keyPrefix) {
                if let newID = record.newID { map[record.planned.sourceID] = newID }
            }
        }
        return map
    }
}
