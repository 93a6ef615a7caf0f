import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `temporaryAccessPass.enable`: a new tenant has the Temporary Access Pass method disabled in its authentication-methods
/// policy, and Graph refuses a pass for a user the method does not target. This stage puts the named recovery admins in
/// one security group (upsert on a fixed uniqueName) and enables the method for that group only — never for all users
/// (temporaryaccesspassauthenticationmethodconfiguration-update.md, resources/temporaryaccesspassauthenticationmethodconfiguration.md).
struct TemporaryAccessPassEnable: StageKind {
    static let spec = StageKindSpec(
        name: "temporaryAccessPass.enable",
        summary:
            "a new tenant has the Temporary Access Pass method disabled: puts the named admins in one security group (`lifeboat-recovery-admins`, upsert) and enables the method for that group only",
        options: [
            OptionSpec(
                "users", .stringList, "source UPNs of the admins the method is enabled for (the users of users.accessPasses)",
                required: true),
            OptionSpec("groupUniqueName", .string, "uniqueName of the group that holds them (default `lifeboat-recovery-admins`)"),
        ])

    static let path = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
    let upns: [String]
    let groupName: String

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        upns = (stage.options.stringList("users") ?? []).map { $0.lowercased() }
        guard !upns.isEmpty else {
            throw StageConfigurationError(stageID: stage.id, problem: "users names nobody", hint: "list the recovery admins' source UPNs")
        }
        groupName = stage.options.string("groupUniqueName") ?? "lifeboat-recovery-admins"
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(operations: [
            PlannedOperation(
                key: "tapPolicy", objectType: nil, sourceID: "TemporaryAccessPass", naturalKey: groupName,
                displayName: "Temporary Access Pass method for \(upns.joined(separator: ", "))")
        ])
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let byUPN = Dictionary(
            context.snapshot.users.map { ($0.userPrincipalName.lowercased(), $0.id) }, uniquingKeysWith: { first, _ in first })
        var followUps: [FollowUp] = []
        var members: [String] = []
        for upn in upns {
            if let old = byUPN[upn], let new = context.idMap.newID(for: old) {
                members.append(new)
            } else {
                followUps.append(
                    FollowUp(
                        category: "credentials",
                        message: "\(upn) was not restored, so the Temporary Access Pass method is not enabled for it",
                        action: "add the account to the group \(groupName) once it exists"))
            }
        }
        let groupID = try await recoveryGroup(in: context)
        let present = Set(try await TargetLookup.relationshipIDs(context.graph, groupID: groupID, relationship: "members"))
        for member in members where !present.contains(member) {
            do {
                _ = try await context.graph.send(
                    GraphRequest(
                        "POST", "/groups/\(groupID)/members/$ref",
                        body: ["@odata.id": .string("\(context.graph.baseURL)/directoryObjects/\(member)")]))
            } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {}
        }
        let configuration = try await context.graph.get(Self.path)
        if Self.enabled(configuration, for: groupID) { return OperationOutcome(.unchanged, newID: groupID, followUps: followUps) }
        var targets = (configuration["includeTargets"]?.arrayValue ?? []).filter { $0["id"]?.stringValue != groupID }
        // A method that was disabled targets nobody yet: whatever it listed (all_users by default) must not be enabled with it.
        if configuration["state"]?.stringValue != "enabled" { targets = [] }
        targets.append(["targetType": "group", "id": .string(groupID), "isRegistrationRequired": false])
        _ = try await context.graph.send(
            GraphRequest(
                "PATCH", Self.path,
                body: [
                    "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                    "state": "enabled", "includeTargets": .array(targets),
                ]))
        return OperationOutcome(.applied, newID: groupID, followUps: followUps, note: "enabled for group \(groupName)")
    }

    /// Whether the configuration is enabled and targets the group.
    static func enabled(_ configuration: JSONObject, for groupID: String) -> Bool {
        configuration["state"]?.stringValue == "enabled"
            && (configuration["includeTargets"]?.arrayValue ?? []).contains { $0["id"]?.stringValue == groupID }
    }

    /// The recovery admins' group, created when missing (upsert: a retry never makes a second one).
    private func recoveryGroup(in context: StageContext) async throws -> String {
        do {
            let response = try await context.graph.send(
                GraphRequest(
                    "PATCH", "/groups(uniqueName=\(GraphClient.literal(groupName)))", headers: ["Prefer": "create-if-missing"],
                    body: [
                        "displayName": "Lifeboat recovery admins",
                        "description": "Recovery admins allowed a Temporary Access Pass during the rebuild",
                        "mailEnabled": false, "mailNickname": .string(groupName), "securityEnabled": true,
                    ]))
            if let id = response.object["id"]?.stringValue { return id }
        } catch let error as GraphError where error.kind == .ambiguous {
            // The upsert may have landed: look for it while the lists catch up (an upsert retried later is harmless anyway).
            if let id = try await TargetLookup.settling(
                context.graph,
                {
                    try await TargetLookup.find(context.graph, "/groups", where: "uniqueName", equals: groupName)?["id"]?.stringValue
                })
            {
                return id
            }
            throw error
        }
        guard let found = try await TargetLookup.find(context.graph, "/groups", where: "uniqueName", equals: groupName)?["id"]?.stringValue
        else {
            // Listed only once replication catches up: a not-found is retried by the executor with backoff.
            throw GraphError(
                kind: .http, status: 404, code: "Request_ResourceNotFound",
                message: "the group \(groupName) was upserted but is not listed yet", method: "GET", path: "/groups")
        }
        return found
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let group = try await TargetLookup.find(context.graph, "/groups", where: "uniqueName", equals: groupName)?["id"]?.stringValue
        else { return nil }
        return Self.enabled(try await context.graph.get(Self.path), for: group) ? OperationOutcome(.unchanged, newID: group) : nil
    }
}
