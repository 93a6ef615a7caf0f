import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot

/// Restores one of a group's relationships (`members` or `owners`) in chunks of at most 20 references,
/// the limit Graph puts on `@odata.bind`.
struct GroupRelationship: Sendable {
    /// `members` or `owners`.
    let name: String
    static let chunkSize = 20

    /// One operation per chunk of 20 references, in a deterministic order.
    func plan(_ snapshot: Snapshot, references: (Group) -> [DirectoryReference], skipDynamic: Bool) -> StagePlan {
        var plan = StagePlan()
        for group in snapshot.groups {
            let refs = references(group).sorted { $0.id < $1.id }
            guard !refs.isEmpty else { continue }
            if skipDynamic, group.isDynamic { continue }
            for start in stride(from: 0, to: refs.count, by: Self.chunkSize) {
                let chunk = Array(refs[start..<min(start + Self.chunkSize, refs.count)])
                let number = start / Self.chunkSize + 1
                plan.operations.append(
                    PlannedOperation(
                        key: "\(name):\(group.id):\(number)", objectType: nil, sourceID: group.id, naturalKey: nil,
                        displayName: "\(group.displayName) \(name) \(start + 1)–\(start + chunk.count)",
                        detail: ["refs": .array(chunk.map { ["id": .string($0.id), "type": .string($0.typeName)] })]))
            }
        }
        return plan
    }

    /// A skip with a follow-up when the group itself was not restored (a mail-enabled security group, a synced group).
    func unrestoredGroup(_ operation: PlannedOperation, in context: StageContext) -> OperationOutcome? {
        guard context.idMap.newID(for: operation.sourceID) == nil else { return nil }
        let group = context.index.groups[operation.sourceID]?.displayName ?? operation.sourceID
        return OperationOutcome(
            .skipped,
            followUps: [
                FollowUp(
                    category: "unresolved-reference", message: "the \(name) of \(group) were not restored because the group was not",
                    action: "restore the group (see the groups stage's follow-ups), then add its \(name) by hand or rerun")
            ])
    }

    /// The chunk's references resolved to target ids, and follow-ups for those that cannot be.
    func resolve(_ operation: PlannedOperation, in context: StageContext) throws -> (groupID: String, ids: [String], followUps: [FollowUp])
    {
        guard let groupID = context.idMap.newID(for: operation.sourceID) else {
            throw StageOperationError(
                code: "UnresolvedReference",
                message: "group \(operation.sourceID) was not restored, so its \(name) cannot be; restore the group first")
        }
        var ids: [String] = []
        var followUps: [FollowUp] = []
        for ref in operation.detail["refs"]?.arrayValue ?? [] {
            guard let oldID = ref["id"]?.stringValue else { continue }
            if let newID = context.idMap.newID(for: oldID) {
                ids.append(newID)
            } else {
                let type = ref["type"]?.stringValue ?? "directoryObject"
                let known = context.snapshot.typeByID[oldID] != nil
                followUps.append(
                    FollowUp(
                        category: "unresolved-reference",
                        message:
                            "\(type) \(oldID) was not restored, so it was not added to \(name) of \(operation.displayName.components(separatedBy: " \(name) ").first ?? operation.sourceID)",
                        action: known
                            ? "restore that object (a later stage or by hand), then rerun to add it"
                            : "the \(type) is not in the snapshot (devices and contacts are not restored); add it by hand if it still exists"
                    ))
            }
        }
        return (groupID, ids, followUps)
    }

    func current(_ groupID: String, in context: StageContext) async throws -> Set<String> {
        try await TargetLookup.relationshipIDs(context.graph, groupID: groupID, relationship: name)
    }

    func reference(_ id: String, in context: StageContext) -> JSONValue {
        .string("\(context.graph.baseURL)/directoryObjects/\(id)")
    }

    /// Looks the chunk up in the target: applied if every resolvable reference is there.
    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let (groupID, ids, followUps) = try resolve(operation, in: context)
        let present = try await current(groupID, in: context)
        return ids.allSatisfy(present.contains) ? OperationOutcome(.applied, followUps: followUps) : nil
    }
}
