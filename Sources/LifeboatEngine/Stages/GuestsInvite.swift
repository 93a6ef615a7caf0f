import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `guests.invite`: brings B2B guests back through `POST /invitations` (no mail unless asked),
/// keeping their display names; their group memberships follow in `groups.members`.
struct GuestsInvite: StageKind {
    static let spec = StageKindSpec(
        name: "guests.invite", summary: "guests, through `POST /invitations`, no mail unless asked",
        options: [
            OptionSpec("redirectUrl", .string, "where guests land after redeeming (default https://myapps.microsoft.com)"),
            OptionSpec("sendInvitationMessage", .bool, "send Microsoft's invitation mail (default false)"),
        ] + ObjectSelection.options)

    let redirectURL: String
    let sendMessage: Bool

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
        redirectURL = stage.options.string("redirectUrl") ?? "https://myapps.microsoft.com"
        sendMessage = stage.options.bool("sendInvitationMessage") ?? false
    }

    /// The guest's external address: `mail`, else `otherMails`, else decoded from the `#EXT#` UPN.
    static func email(of user: User) -> String? {
        if let mail = user.mail, mail.contains("@") { return mail }
        if let other = user[property: "otherMails"]?.stringArray?.first { return other }
        guard let range = user.userPrincipalName.range(of: "#EXT#") else { return nil }
        let local = user.userPrincipalName[..<range.lowerBound]
        guard let underscore = local.lastIndex(of: "_") else { return nil }
        return local[..<underscore] + "@" + local[local.index(after: underscore)...]
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let members = selection.members(in: snapshot)
        for user in snapshot.users where user.isGuest && selection.selects(user, memberIDs: members) {
            let email = Self.email(of: user)
            plan.operations.append(
                PlannedOperation(
                    key: "guest:\(user.id)", objectType: .user, sourceID: user.id, naturalKey: email?.lowercased(),
                    displayName: user.displayName,
                    detail: ["email": email.map(JSONValue.string) ?? .null],
                    skip: email == nil
                        ? FollowUp(
                            category: "guest-without-address",
                            message: "guest \(user.userPrincipalName) has no email address in the snapshot",
                            action: "invite the guest by hand from the Entra admin center") : nil))
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let email = operation.naturalKey else { return OperationOutcome(.skipped) }
        // Graph answers an invitation of an existing guest with that guest: look first so the ID map says `adopted`.
        if let existing = try await reconcile(operation, in: context) { return existing }
        let body: JSONValue = [
            "invitedUserEmailAddress": .string(email),
            "invitedUserDisplayName": .string(operation.displayName),
            "inviteRedirectUrl": .string(redirectURL),
            "sendInvitationMessage": .bool(sendMessage),
            "invitedUserType": "Guest",
        ]
        let response = try await context.graph.send(GraphRequest("POST", "/invitations", body: body))
        guard let id = response.object["invitedUser"]?["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "the invitation returned no invitedUser.id")
        }
        return OperationOutcome(
            .created, newID: id,
            followUps: [
                FollowUp(
                    category: "guest-redemption", message: "\(email) was re-invited and must redeem the invitation again",
                    action: sendMessage ? "tell the guest to expect Microsoft's invitation mail" : "send the guest the redemption link")
            ])
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let email = operation.naturalKey,
            let found = try await TargetLookup.find(context.graph, "/users", where: "mail", equals: email),
            let id = found["id"]?.stringValue
        else { return nil }
        return OperationOutcome(.adopted, newID: id)
    }
}
