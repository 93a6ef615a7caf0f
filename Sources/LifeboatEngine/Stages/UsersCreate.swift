import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `users.create`: recreates member users with their UPN domain mapped to a domain the target has verified.
///
/// Guests come back through `guests.invite`; users synced from on-premises AD are listed as follow-ups.
struct UsersCreate: StageKind {
    static let spec = StageKindSpec(
        name: "users.create",
        summary:
            "member users, UPN domains mapped; synced users become follow-ups; guests are left to `guests.invite`; `employeeLeaveDateTime` is left to a follow-up (writing it needs `User-LifeCycleInfo.ReadWrite.All`)",
        options: [
            OptionSpec("upnDomainMap", .stringMap, "source UPN domain → target domain, e.g. `contoso.com: contosodr.onmicrosoft.com`"),
            OptionSpec(
                "otherDomainsTo", .string,
                "the domain that receives every UPN domain of the snapshot not in upnDomainMap (a new tenant has verified none of them yet); users.rename moves them back once verified"
            ),
            OptionSpec(
                "passwordFile", .string, "0600 file that receives each new user's initial password; without it, passwords are not kept"),
            OptionSpec(
                "sameTenant", .bool,
                "the target is the snapshot's own tenant (in-place restore): every UPN domain, *.onmicrosoft.com included, is still there"),
            OptionSpec(
                "finalUPNWhenVerified", .bool,
                "create a user that otherDomainsTo would move straight on its own UPN when the target has verified that domain by then, so users.rename writes nothing for it (default true)"
            ),
        ] + ObjectSelection.options)

    let domainMap: [String: String]
    /// Where UPN domains not in `domainMap` go (the recovery domain), if the runbook says.
    let otherDomainsTo: String?
    let passwordFile: String?
    let sameTenant: Bool
    let finalUPNWhenVerified: Bool
    let stageID: String
    let secrets: SecretsFile?

    let selection: ObjectSelection
    /// The target's users (lower-cased UPN → id), listed once when the stage starts sending.
    let targetUsers = SharedReads<[String: String]>()
    /// Whether each custom UPN domain is verified on the target, read once per stage (`GET /domains/{id}`).
    let verifiedDomains = SharedReads<Bool>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
        stageID = stage.id
        var map: [String: String] = [:]
        for (source, target) in stage.options.stringMap("upnDomainMap") ?? [:] {
            guard !target.isEmpty, !target.contains("@") else {
                throw StageConfigurationError(
                    stageID: stage.id, problem: "upnDomainMap maps \(source) to \"\(target)\", which is not a domain name")
            }
            map[source.lowercased()] = target.lowercased()
        }
        domainMap = map
        otherDomainsTo = stage.options.string("otherDomainsTo").map { $0.lowercased() }
        if let other = otherDomainsTo, other.isEmpty || other.contains("@") {
            throw StageConfigurationError(stageID: stage.id, problem: "otherDomainsTo is \"\(other)\", which is not a domain name")
        }
        passwordFile = stage.options.string("passwordFile")
        sameTenant = stage.options.bool("sameTenant") ?? false
        finalUPNWhenVerified = stage.options.bool("finalUPNWhenVerified") ?? true
        secrets = passwordFile.map { SecretsFile(url: URL(fileURLWithPath: $0)) }
    }

    func targetUPN(_ user: User) -> String {
        let parts = user.userPrincipalName.split(separator: "@", maxSplits: 1)
        guard parts.count == 2, let mapped = domainMap[parts[1].lowercased()] ?? otherDomainsTo else { return user.userPrincipalName }
        return "\(parts[0])@\(mapped)"
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) throws(StageConfigurationError) -> StagePlan {
        var plan = StagePlan()
        var seen: [String: User] = [:]
        var guests = 0
        let members = selection.members(in: snapshot)
        for user in snapshot.users where selection.selects(user, memberIDs: members) {
            if user.isGuest {
                guests += 1
                continue
            }
            let upn = targetUPN(user)
            if user.onPremisesSyncEnabled {
                plan.operations.append(
                    PlannedOperation(
                        key: "user:\(user.id)", objectType: .user, sourceID: user.id, naturalKey: upn, displayName: user.displayName,
                        skip: FollowUp(
                            category: "synced-object",
                            message: "\(user.userPrincipalName) is synced from on-premises Active Directory",
                            action: "restore it in on-premises AD and let Entra Connect sync it; then rerun to adopt it")))
                continue
            }
            if let other = seen[upn.lowercased()] {
                throw StageConfigurationError(
                    stageID: stageID, problem: "\(user.userPrincipalName) and \(other.userPrincipalName) would both become \(upn)",
                    hint: "map their domains to different target domains in upnDomainMap")
            }
            seen[upn.lowercased()] = user
            plan.operations.append(
                PlannedOperation(
                    key: "user:\(user.id)", objectType: .user, sourceID: user.id, naturalKey: upn, displayName: user.displayName,
                    detail: ["userPrincipalName": .string(upn)]))
        }
        let unmapped =
            otherDomainsTo != nil
            ? []
            : Set(snapshot.users.filter { !$0.isGuest && !$0.onPremisesSyncEnabled && domainMap[$0.upnDomain] == nil }.map(\.upnDomain))
        // A *.onmicrosoft.com domain belongs to the source tenant forever: no other tenant can verify it.
        let tenantBound = unmapped.filter { index.domains[$0]?.isInitial == true || $0.hasSuffix(".onmicrosoft.com") }
        if !tenantBound.isEmpty, !sameTenant {
            throw StageConfigurationError(
                stageID: stageID, problem: "UPNs on \(tenantBound.sorted().joined(separator: ", ")) cannot be recreated in another tenant",
                hint: "add `\(tenantBound.sorted().first!): ${target.initialDomain}` to upnDomainMap")
        }
        if !unmapped.isEmpty, !sameTenant {
            plan.warnings.append(
                "UPNs on \(unmapped.sorted().joined(separator: ", ")) are kept as they are: the target must have verified those domains")
        }
        if guests > 0 { plan.warnings.append("\(guests) guest users are left to a guests.invite stage") }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let user = context.index.users[operation.sourceID], let planned = operation.naturalKey else {
            throw StageOperationError(code: "SnapshotMismatch", message: "user \(operation.sourceID) is not in the snapshot")
        }
        // A user created on a mapped domain may already have been moved back (users.rename) by an earlier run. The target's
        // users are listed once for the stage (one request per 999 users, not a look-up per user); a write whose outcome is
        // unknown is still looked up by itself (reconcile).
        if planned.lowercased() != user.userPrincipalName.lowercased(),
            let id = try await existingUserID(user.userPrincipalName, graph: context.graph)
        {
            return OperationOutcome(.adopted, newID: id, note: "found under its original UPN", naturalKey: user.userPrincipalName)
        }
        // On the recovery domain only until its own domain is verified: when it already is (domains.verify ran
        // first), the user gets its final UPN now and users.rename has nothing to write (one write per user saved).
        let upn = try await finalUPN(user, planned: planned, graph: context.graph)
        var body = WritableProperties.pick(user.properties, WritableProperties.user)
        body["userPrincipalName"] = .string(upn)
        body["accountEnabled"] = .bool(user.accountEnabled)
        if body["mailNickname"] == nil {
            body["mailNickname"] = .string(
                String(upn.split(separator: "@").first ?? "user").filter {
                    $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_"
                })
        }
        try await secrets?.prepare()  // refused before the account exists with a password nobody kept
        let password = InitialPassword.generate()
        body["passwordProfile"] = ["forceChangePasswordNextSignIn": true, "password": .string(password)]
        do {
            let created = try await context.graph.send(GraphRequest("POST", "/users", body: .object(body)))
            guard let id = created.object["id"]?.stringValue else {
                throw StageOperationError(code: "MalformedResponse", message: "Graph created the user but returned no id")
            }
            try await secrets?.append(kind: "password", subject: upn, secret: password)
            return OperationOutcome(.created, newID: id, naturalKey: upn == operation.naturalKey ? nil : upn)
        } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
            // The user exists: `$filter` may lag behind the write that made it.
            if let adopted = try await Reconciliation.$afterUnknownOutcome.withValue(
                true, operation: { try await reconcile(operation, in: context) })
            {
                return adopted
            }
            throw error
        }
    }

    /// The UPN to create `user` with: `planned`, or the user's own UPN when only `otherDomainsTo` moved it (not
    /// `upnDomainMap`, not a `*.onmicrosoft.com` domain) and the target has that domain verified.
    func finalUPN(_ user: User, planned: String, graph: GraphClient) async throws -> String {
        let domain = user.upnDomain.lowercased()
        guard finalUPNWhenVerified, !sameTenant, otherDomainsTo != nil, domainMap[domain] == nil, !domain.hasSuffix(".onmicrosoft.com"),
            planned.lowercased() != user.userPrincipalName.lowercased()
        else { return planned }
        let verified = try await verifiedDomains.value(domain) {
            do {
                return try await graph.get("/domains/\(domain)")["isVerified"]?.boolValue == true
            } catch let error as GraphError where error.isNotFound {
                return false
            }
        }
        return verified ? user.userPrincipalName : planned
    }

    /// The id of the target user with this UPN when the stage started, if there was one.
    private func existingUserID(_ upn: String, graph: GraphClient) async throws -> String? {
        try await targetUsers.value("/users") {
            let users = try await graph.list("/users", query: [QueryItem("$select", "id,userPrincipalName"), QueryItem("$top", "999")])
            return Dictionary(
                users.compactMap { user in
                    guard let upn = user["userPrincipalName"]?.stringValue, let id = user["id"]?.stringValue else { return nil }
                    return (upn.lowercased(), id)
                }, uniquingKeysWith: { first, _ in first })
        }[upn.lowercased()]
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let upn = operation.naturalKey else { return nil }
        var found = try await TargetLookup.find(context.graph, "/users", where: "userPrincipalName", equals: upn)
        if found == nil, let original = context.index.users[operation.sourceID]?.userPrincipalName,
            original.lowercased() != upn.lowercased()
        {
            found = try await TargetLookup.find(context.graph, "/users", where: "userPrincipalName", equals: original)
        }
        guard let id = found?["id"]?.stringValue else { return nil }
        return OperationOutcome(
            .adopted, newID: id,
            followUps: [
                FollowUp(
                    category: "credentials", message: "\(upn) was adopted from the target; its password is not known to this run",
                    action: "reset the password or issue a Temporary Access Pass")
            ])
    }

    func finish(in context: StageContext) async throws {
        let leaving = context.snapshot.users.filter { !$0.isGuest && $0[property: "employeeLeaveDateTime"].map { !$0.isNull } == true }
        if !leaving.isEmpty {
            try await context.checkpoint.addFollowUp(
                FollowUp(
                    category: "not-restored",
                    message:
                        "\(leaving.count) users have an employeeLeaveDateTime in the snapshot that was not restored (writing it needs User-LifeCycleInfo.ReadWrite.All)",
                    action:
                        "grant User-LifeCycleInfo.ReadWrite.All and set employeeLeaveDateTime on those users (the snapshot's users.json lists them)"
                ),
                stageID: context.stage.id)
        }
        let created = try await context.checkpoint.operationCounts(stageID: context.stage.id)[.done, default: 0]
        guard created > 0 else { return }
        try await context.checkpoint.addFollowUp(
            FollowUp(
                category: "credentials",
                message: "\(created) users have new random passwords (must change at first sign-in) and no MFA or authentication methods",
                action: passwordFile == nil
                    ? "issue Temporary Access Passes or reset passwords, then have users re-register MFA"
                    : "hand out the passwords from \(passwordFile!) securely, then have users re-register MFA"), stageID: context.stage.id)
    }
}

/// Random initial passwords that meet Entra's complexity rules.
enum InitialPassword {
    private static let lower = Array("abcdefghijkmnopqrstuvwxyz"), upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
    private static let digits = Array("23456789"), symbols = Array("!#$%*+-=?@^_")
    private static let all = lower + upper + digits + symbols

    static func generate() -> String {
        var random = BufferedSystemRandom()
        var characters = [
            lower.randomElement(using: &random)!, upper.randomElement(using: &random)!,
            digits.randomElement(using: &random)!, symbols.randomElement(using: &random)!,
        ]
        for _ in 0..<16 { characters.append(all.randomElement(using: &random)!) }
        return String(characters.shuffled(using: &random))
    }
}

/// The operating system's secure randomness, read 512 bytes at a time: a password draws some 40 values, and
/// `SystemRandomNumberGenerator` makes one system call per value (a million calls for a tenant of 25,000 users).
struct BufferedSystemRandom: RandomNumberGenerator {
    private var buffer = [UInt64](repeating: 0, count: 64)
    private var index = 64

    mutating func next() -> UInt64 {
        if index == buffer.count {
            refill()
            index = 0
        }
        defer { index += 1 }
        return buffer[index]
    }

    private mutating func refill() {
        #if canImport(Glibc) || canImport(Darwin)
            // One call for the whole buffer (glibc 2.36+ and Darwin draw it from the kernel's CSPRNG).
            buffer.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            return
        #else
            var system = SystemRandomNumberGenerator()
            for index in buffer.indices { buffer[index] = system.next() }
        #endif
    }
}
