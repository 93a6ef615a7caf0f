import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// A stage option that is well-formed YAML but cannot work (e.g. two users mapped to one UPN).
package struct StageConfigurationError: Error, Sendable, CustomStringConvertible {
    package var stageID: String
    package var problem: String
    package var hint: String?
    package init(stageID: String, problem: String, hint: String? = nil) {
        self.stageID = stageID
        self.problem = problem
        self.hint = hint
    }
    package var description: String { "stage \(stageID): \(problem)" + (hint.map { " — \($0)" } ?? "") }
}

/// What a stage plans: its operations and any warnings for the operator.
package struct StagePlan: Sendable {
    package var operations: [PlannedOperation]
    package var warnings: [String]
    package init(operations: [PlannedOperation] = [], warnings: [String] = []) {
        self.operations = operations
        self.warnings = warnings
    }
}

/// Everything a stage sees while it runs.
package struct StageContext: Sendable {
    package let stage: Runbook.Stage
    package let graph: GraphClient
    package let snapshot: Snapshot
    package let index: SnapshotIndex
    /// The ID map as it stood when the stage started (earlier stages' objects).
    package let idMap: IDMap
    /// Where files the run produces (ID map exports) are written, relative paths resolve against it.
    package let outputDirectory: URL
    /// Reads the checkpoint (for stages that export it).
    package let checkpoint: CheckpointStore
}

/// One kind of recovery stage: it plans deterministic operations from the snapshot, performs one,
/// and reconciles one whose outcome is unknown by looking it up in the target.
///
/// Each kind lives in its own file under `Stages/`.
package protocol StageKind: Sendable {
    /// The name used in runbooks and its options.
    static var spec: StageKindSpec { get }

    /// Checks the stage's options beyond their types; throws when they cannot work.
    init(stage: Runbook.Stage) throws(StageConfigurationError)

    /// Plans the operations for a snapshot. Must be deterministic: the same snapshot and options give the same keys.
    func plan(_ snapshot: Snapshot, index: SnapshotIndex) throws(StageConfigurationError) -> StagePlan

    /// Sends the write of one operation.
    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome

    /// Looks up an operation whose write may have been applied; returns its outcome if it was, `nil` if not.
    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome?

    /// Runs after every operation of the stage is done (exports, summaries). Default: nothing.
    func finish(in context: StageContext) async throws

    /// Whether the stage's operations write to the target. Operations that only read (verify) have no intent to
    /// commit and nothing to reconcile: after a crash they simply run again. Default: `true`.
    var writesToTarget: Bool { get }
}

extension StageKind {
    package func finish(in context: StageContext) async throws {}
    package var writesToTarget: Bool { true }
}

/// The stage kinds this build knows.
package enum StageCatalog {
    /// Every stage kind, by name.
    package static let kinds: [String: any StageKind.Type] = {
        let all: [any StageKind.Type] = [
            ManualStage.self, TenantCreate.self, DomainsAdd.self, DomainsVerify.self, RecycleBinRestore.self,
            UsersCreate.self, UsersRename.self, UsersManager.self, GuestsInvite.self,
            GroupsCreate.self, GroupsMembers.self, GroupsOwners.self, AdminUnitsCreate.self, AdminUnitsMembers.self,
            RolesDefinitions.self, RolesAssign.self, NamedLocationsCreate.self, ConditionalAccessCreate.self, ConditionalAccessEnable.self,
            Verify.self, IDMapExport.self,
            AppsCreate.self, AppsLink.self, AppsOwners.self, ServicePrincipalsCreate.self, AppRoleAssignmentsCreate.self,
            OAuth2GrantsCreate.self, LicensesAssign.self, UsersAccessPasses.self,
            AuthenticationStrengthsCreate.self, SecurityDefaultsDisable.self, TemporaryAccessPassEnable.self, AppsIdentifierURIs.self,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.spec.name, $0) })
    }()

    /// Specs for the runbook validator.
    package static var specs: [StageKindSpec] { kinds.values.map { $0.spec }.sorted { $0.name < $1.name } }

    /// Instantiates the kind of a stage.
    package static func make(_ stage: Runbook.Stage) throws(StageConfigurationError) -> any StageKind {
        guard let kind = kinds[stage.kind] else {
            throw StageConfigurationError(stageID: stage.id, problem: "unknown stage kind \(stage.kind)")
        }
        return try kind.init(stage: stage)
    }
}

/// Lookups over a snapshot that stages share.
package struct SnapshotIndex: Sendable {
    package let users: ObjectsByID<User>
    package let groups: ObjectsByID<Group>
    package let servicePrincipals: ObjectsByID<ServicePrincipal>
    /// Domains of the source tenant, lower-cased.
    package let domains: ObjectsByID<Domain>

    package init(_ snapshot: Snapshot) {
        users = ObjectsByID(snapshot.users)
        groups = ObjectsByID(snapshot.groups)
        servicePrincipals = ObjectsByID(snapshot.servicePrincipals)
        domains = ObjectsByID(snapshot.domains)
    }
}

/// A snapshot's objects of one type by id: each id maps to the object's place in the snapshot's array, which the index
/// shares, so the objects are not copied (a dictionary of 100,000 users held a second copy of every `User`, 48 MB).
package struct ObjectsByID<Object: DirectoryObject>: Sendable {
    private let objects: [Object]
    private let positions: [String: Int]

    package init(_ objects: [Object]) {
        self.objects = objects
        var positions: [String: Int] = [:]
        positions.reserveCapacity(objects.count)
        for (position, object) in objects.enumerated() where positions[object.id] == nil { positions[object.id] = position }
        self.positions = positions
    }

    /// The object with this id (the first, should two share it).
    package subscript(id: String) -> Object? {
        positions[id].map { objects[$0] }
    }
}

/// A file of generated secrets (initial passwords, Temporary Access Passes, client secrets): created 0600 from its first
/// byte, or appended to only when it is a regular file of this user with mode 0600 (see ``PrivateFile``).
package actor SecretsFile {
    package nonisolated let url: URL
    private var handle: FileHandle?

    package init(url: URL) {
        self.url = url
    }

    /// Opens (or creates) the file, so a file that must be refused is refused before the secret exists in the target.
    package func prepare() throws {
        if handle == nil {
            handle = try PrivateFile.openForAppending(url.path, header: Data("kind,subject,secret\n".utf8)).handle
        }
    }

    /// Appends one `kind,subject,secret` line (CSV, each field quoted when it needs to be).
    package func append(kind: String, subject: String, secret: String) throws {
        try prepare()
        // The secret is written exactly as issued (a pass may start with `=` or `+`); the subject is defused as usual.
        let line =
            [CSVField.quoted(kind), CSVField.quoted(subject), CSVField.quoted(secret, defusingFormulas: false)].joined(separator: ",")
            + "\n"
        try handle?.write(contentsOf: Data(line.utf8))
        try handle?.synchronize()
    }
}

/// Shared Graph look-ups stages use to reconcile by natural key.
enum TargetLookup {
    /// The single object of a collection whose property equals a value, or `nil`.
    static func find(
        _ graph: GraphClient, _ collection: String, where property: String, equals value: String,
        select: String = "id,displayName"
    ) async throws -> JSONObject? {
        let filter = "\(property) eq \(GraphClient.literal(value))"
        let read = { try await graph.list(collection, query: [QueryItem("$filter", filter), QueryItem("$select", select)]).first }
        // After a write whose outcome is unknown, `$filter` may not show it yet: a miss then is asked again while lists settle.
        return Reconciliation.afterUnknownOutcome ? try await settling(graph, read) : try await read()
    }

    /// Runs a look-up of an object an upsert just confirmed (204) again while Graph's lists lag behind the write
    /// (``DisplayNameLookup/settleDelays``), so a confirmed object is not reported missing.
    /// The waits are counted from the first miss, as deadlines: look-ups that missed together wait together (on a
    /// simulated clock, eight of them move it by one lag, not eight).
    static func settling<T: Sendable>(_ graph: GraphClient, _ lookup: () async throws -> T?) async throws -> T? {
        if let found = try await lookup() { return found }
        var deadline = await graph.clock.now()
        for delay in DisplayNameLookup.settleDelays {
            deadline = deadline.addingTimeInterval(delay)
            try await WaitReason.$current.withValue(.retry) { [deadline] in try await graph.clock.sleep(until: deadline) }
            if let found = try await lookup() { return found }
        }
        return nil
    }

    /// Looks for something in a listing that look-ups at the same moment share (``SettlingListings``): one listing per
    /// key and settling round, however many operations look into it. After a write whose outcome is unknown, a miss is
    /// asked again while Graph's lists lag behind writes (``DisplayNameLookup/settleDelays``; Graph documents that a list
    /// may not show objects created, changed or deleted moments ago: api-reference/v1.0/api/user-list.md,
    /// concepts/delta-query-overview.md), its deadlines counted from when the listing that missed started, so look-ups
    /// that shared a listing share each round.
    static func listed<Value: Sendable, T: Sendable>(
        _ graph: GraphClient, in listings: SettlingListings<Value>, key: String, read: @escaping @Sendable () async throws -> Value,
        find: (Value) -> T?
    ) async throws -> T? {
        // A listing proves something about a write only if it started after the write was sent.
        let now = await graph.clock.now()
        var (value, listedAt) = try await listings.listing(key, notBefore: Reconciliation.sentBefore ?? now, now: now, read: read)
        if let found = find(value) { return found }
        guard Reconciliation.afterUnknownOutcome else { return nil }
        var deadline = listedAt
        for delay in DisplayNameLookup.settleDelays {
            deadline = deadline.addingTimeInterval(delay)
            try await WaitReason.$current.withValue(.retry) { [deadline] in try await graph.clock.sleep(until: deadline) }
            let now = await graph.clock.now()
            (value, _) = try await listings.listing(key, notBefore: deadline, now: now, read: read)
            if let found = find(value) { return found }
        }
        return nil
    }

    /// The ids of a group's members or owners in the target.
    static func relationshipIDs(_ graph: GraphClient, groupID: String, relationship: String) async throws -> Set<String> {
        let items = try await graph.list(
            "/groups/\(groupID)/\(relationship)", query: [QueryItem("$select", "id"), QueryItem("$top", "999")])
        return Set(items.compactMap { $0["id"]?.stringValue })
    }
}

/// Target reads a stage makes once and shares between its concurrent operations (a collection listed with
/// `$top=999`, a domain's verification state): one request per key instead of one per operation.
/// A read that fails is forgotten, so the next operation tries again.
actor SharedReads<Value: Sendable> {
    private var reads: [String: Task<Value, any Error>] = [:]

    func value(_ key: String, read: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task: Task<Value, any Error>
        if let existing = reads[key] {
            task = existing
        } else {
            task = Task { try await read() }
            reads[key] = task
        }
        do {
            return try await task.value
        } catch {
            if reads[key] == task { reads[key] = nil }
            throw error
        }
    }
}

/// Listings (a unit's members, say) shared between look-ups that need one started no earlier than some moment: after the
/// write they look for was sent, or after their wait for Graph's list lag. A look-up takes the newest listing of its key
/// that started then or later, in flight or done, and lists anew only when there is none, so operations that settle
/// together cost one listing per round between them. A listing that fails is forgotten.
actor SettlingListings<Value: Sendable> {
    private var latest: [String: (startedAt: Date, read: Task<Value, any Error>)] = [:]

    /// The listing of `key` and when it started; `now` is the caller's clock's time, taken as the start of a new listing
    /// (a new one starts after it, so the moment recorded is never later than the listing's real start).
    func listing(_ key: String, notBefore: Date, now: Date, read: @escaping @Sendable () async throws -> Value) async throws -> (
        value: Value, startedAt: Date
    ) {
        let current: (startedAt: Date, read: Task<Value, any Error>)
        if let existing = latest[key], existing.startedAt >= notBefore {
            current = existing
        } else {
            current = (now, Task { try await read() })
            latest[key] = current
        }
        do {
            return (try await current.read.value, current.startedAt)
        } catch {
            if latest[key]?.read == current.read { latest[key] = nil }
            throw error
        }
    }
}

/// Properties that Graph computes or that cannot be written on create; never sent back.
enum WritableProperties {
    /// Writable user properties Lifeboat restores on create. Not `employeeLeaveDateTime`: writing it needs
    /// `User-LifeCycleInfo.ReadWrite.All` besides the user permission (user-update.md), so users.create leaves it to a follow-up.
    static let user: Set<String> = [
        "accountEnabled", "ageGroup", "businessPhones", "city", "companyName", "consentProvidedForMinor", "country", "department",
        "displayName", "employeeHireDate", "employeeId", "employeeOrgData", "employeeType", "faxNumber",
        "givenName", "jobTitle", "mailNickname", "mobilePhone", "officeLocation", "onPremisesExtensionAttributes", "otherMails",
        "passwordPolicies", "postalCode", "preferredDataLocation", "preferredLanguage", "showInAddressList", "state",
        "streetAddress", "surname", "usageLocation", "userType",
    ]

    /// Writable group properties Lifeboat restores on create.
    static let group: Set<String> = [
        "classification", "description", "displayName", "groupTypes", "isAssignableToRole", "mailEnabled", "mailNickname",
        "membershipRule", "membershipRuleProcessingState", "preferredDataLocation", "preferredLanguage", "securityEnabled",
        "theme", "visibility",
    ]

    /// Writable application properties (Graph v1.0 metadata), restored on create. Never `id`, `appId`, `createdDateTime`,
    /// `publisherDomain`, `passwordCredentials` (secrets are reissued), or what Graph sets itself (`certification`,
    /// `verifiedPublisher`, `applicationTemplateId`, `disabledByMicrosoftStatus`); `uniqueName` is the upsert key.
    static let application: Set<String> = [
        "addIns", "api", "appRoles", "authenticationBehaviors", "defaultRedirectUri", "description", "displayName",
        "groupMembershipClaims", "identifierUris", "info", "isDeviceOnlyAuthSupported", "isFallbackPublicClient", "keyCredentials",
        "nativeAuthenticationApisEnabled", "notes", "oauth2RequirePostResponse", "optionalClaims", "parentalControlSettings",
        "publicClient", "requestSignatureVerification", "requiredResourceAccess", "samlMetadataUrl", "serviceManagementReference",
        "servicePrincipalLockConfiguration", "signInAudience", "spa", "tags", "tokenEncryptionKeyId", "web",
    ]

    /// Writable service principal properties that belong to the tenant's enterprise app rather than to its
    /// application (appRoles, scopes, homepage, replyUrls and servicePrincipalNames come from the application).
    static let servicePrincipal: Set<String> = [
        "accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description", "displayName", "loginUrl", "logoutUrl",
        "notes", "notificationEmailAddresses", "preferredSingleSignOnMode", "samlSingleSignOnSettings", "tags",
    ]

    /// The tenant-local settings of an enterprise app that Lifeboat carries over to an adopted (Microsoft or other
    /// organization's) service principal.
    static let externalServicePrincipal: Set<String> = ["accountEnabled", "appRoleAssignmentRequired"]

    /// The subset of `properties` named in `allowed`, dropping nulls.
    static func pick(_ properties: JSONObject, _ allowed: Set<String>) -> JSONObject {
        properties.filter { allowed.contains($0.key) && !$0.value.isNull }
    }
}
