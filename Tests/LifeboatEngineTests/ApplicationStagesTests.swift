import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Synchronization
import Testing

/// The Contoso example with what it lacks to exercise every application stage: owners of an app and of an
/// enterprise app, a federated identity credential, and a certificate whose public key was captured.
enum AppsFixture {
    static let expensesAPI = "64c08d17-7782-4ceb-a734-741cc7d92c89"
    static let expensesWeb = "1a433dc2-6a55-4f7e-8fe4-e33c6c71576c"
    static let hrDaemon = "90cf8c95-a049-4f2a-ad0c-c2efd1d37bfb"
    static let hrDaemonPrincipal = "410d7cdb-2e46-4f7f-a2cb-4d757606f180"
    static let priya = "4819872a-700e-4ca2-8e8a-1eb0d1857a9a"
    static let arjun = "41df5225-8017-44fc-b64f-5509e7c2de8f"
    static let graphAppID = "00000003-0000-0000-c000-000000000000"

    /// Writes the enriched snapshot into `directory/snapshot`.
    static func snapshot(in directory: TemporaryDirectory) throws -> URL {
        let url = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("applications.json", in: url) { data in
            var root = (try? JSONCoding.decode(data)) ?? .null
            var apps = root["value"]?.arrayValue ?? []
            for index in apps.indices {
                guard var app = apps[index].objectValue else { continue }
                switch app["id"]?.stringValue {
                case expensesAPI?:
                    app["owners"] = [
                        ["@odata.type": "#microsoft.graph.user", "id": .string(priya)],
                        ["@odata.type": "#microsoft.graph.user", "id": .string(arjun)],
                    ]
                case expensesWeb?:
                    app["keyCredentials"] = [
                        [
                            "customKeyIdentifier": "B9E2C1A0F00D", "displayName": "CN=expenses-web-signing",
                            "endDateTime": "2027-06-01T00:00:00Z",
                            "key": .string(Data("public key of expenses-web".utf8).base64EncodedString()),
                            "keyId": "0e6a4bd5-0b0c-4b8e-9f35-5d8b2f3b7d11", "startDateTime": "2025-06-01T00:00:00Z",
                            "type": "AsymmetricX509Cert", "usage": "Verify",
                        ]
                    ]
                case hrDaemon?:
                    app["federatedIdentityCredentials"] = [
                        [
                            "name": "github-payroll-main", "issuer": "https://token.actions.githubusercontent.com",
                            "subject": "repo:contoso/payroll-sync:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"],
                            "description": "Deploys from GitHub Actions",
                        ]
                    ]
                default: break
                }
                apps[index] = .object(app)
            }
            root = ["value": .array(apps)]
            return (try? JSONCoding.encode(root)) ?? data
        }
        try Fixtures.rewrite("servicePrincipals.json", in: url) { data in
            var root = (try? JSONCoding.decode(data)) ?? .null
            var principals = root["value"]?.arrayValue ?? []
            for index in principals.indices where principals[index]["id"]?.stringValue == hrDaemonPrincipal {
                guard var principal = principals[index].objectValue else { continue }
                principal["owners"] = [["@odata.type": "#microsoft.graph.user", "id": .string(priya)]]
                principals[index] = .object(principal)
            }
            root = ["value": .array(principals)]
            return (try? JSONCoding.encode(root)) ?? data
        }
        return url
    }
}

extension TabletopDrill {
    /// An executor whose writes matching `drop` lose their response every `every`-th time (after the tenant applied them).
    func executor(
        droppingEvery every: Int, where drop: @escaping @Sendable (HTTPRequest) -> Bool, counting matched: WriteCounter = WriteCounter()
    ) -> Executor {
        executor(
            transport: SelectiveDrops(
                dropping: FakeTenantTransport(tenant: tenant, dropResponses: DroppedResponses(every: every)),
                passing: FakeTenantTransport(tenant: tenant), when: drop, matched: matched))
    }
}

/// Sends the requests one stage kind makes through a transport that loses responses, the rest through one that does not.
struct SelectiveDrops: HTTPTransport {
    let dropping: FakeTenantTransport
    let passing: FakeTenantTransport
    let when: @Sendable (HTTPRequest) -> Bool
    let matched: WriteCounter

    init(
        dropping: FakeTenantTransport, passing: FakeTenantTransport, when: @escaping @Sendable (HTTPRequest) -> Bool, matched: WriteCounter
    ) {
        self.dropping = dropping
        self.passing = passing
        self.when = when
        self.matched = matched
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.method != "GET", when(request) else { return try await passing.send(request) }
        matched.add()
        return try await dropping.send(request)
    }
}

/// Counts the writes a ``SelectiveDrops`` sent through its lossy transport.
final class WriteCounter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// What the target holds of applications, by natural keys, so runs with different new ids compare equal.
struct AppPicture: Equatable, CustomStringConvertible {
    /// One line per object, sorted; the first field is the object's natural key.
    var lines: [String]
    /// Natural keys that occur more than once.
    var duplicates: [String]

    var description: String { lines.joined(separator: "\n") }

    static func of(_ tenant: FakeTenant) async -> AppPicture {
        let apps = await tenant.objects(ofType: "application")
        let principals = await tenant.objects(ofType: "servicePrincipal")
        var names: [String: String] = [:]  // any id or appId → natural key
        for user in await tenant.objects(ofType: "user") {
            names[user["id"]?.stringValue ?? ""] = "user:" + (user["userPrincipalName"]?.stringValue ?? "?")
        }
        for group in await tenant.objects(ofType: "group") {
            names[group["id"]?.stringValue ?? ""] =
                "group:" + (group["uniqueName"]?.stringValue ?? group["displayName"]?.stringValue ?? "?")
        }
        for app in apps {
            let key = "app:" + (app["uniqueName"]?.stringValue ?? "?")
            names[app["id"]?.stringValue ?? ""] = key
            names[app["appId"]?.stringValue ?? ""] = key
        }
        for principal in principals {
            let appId = principal["appId"]?.stringValue ?? ""
            names[principal["id"]?.stringValue ?? ""] = "sp(" + (names[appId] ?? appId) + ")"
        }
        func n(_ value: String?) -> String {
            guard let value else { return "-" }
            if let name = names[value] { return name }
            // Identifier URIs and other strings that embed an appId.
            for (id, name) in names where value.contains(id) && !id.isEmpty { return value.replacingOccurrences(of: id, with: "{\(name)}") }
            return value
        }
        func ids(_ values: [JSONValue]?, _ key: String) -> String {
            (values ?? []).compactMap { $0[key]?.stringValue }.sorted().joined(separator: ",")
        }
        var lines: [String] = []
        var keys: [String] = []
        for app in apps {
            let id = app["id"]?.stringValue ?? ""
            let key = n(id)
            keys.append(key)
            let uris = (app["identifierUris"]?.stringArray ?? []).map { n($0) }.sorted().joined(separator: ",")
            let access = (app["requiredResourceAccess"]?.arrayValue ?? []).map {
                n($0["resourceAppId"]?.stringValue) + "[" + ids($0["resourceAccess"]?.arrayValue, "id") + "]"
            }
            .sorted().joined(separator: ",")
            let preAuthorized = (app["api"]?["preAuthorizedApplications"]?.arrayValue ?? []).map { n($0["appId"]?.stringValue) }.sorted()
                .joined(separator: ",")
            let owners = await tenant.relationship("owners", of: id).map { n($0) }.sorted().joined(separator: ",")
            let credentials = await tenant.relationship("federatedIdentityCredentials", of: id).count
            lines.append(
                "\(key) roles=\(ids(app["appRoles"]?.arrayValue, "id")) scopes=\(ids(app["api"]?["oauth2PermissionScopes"]?.arrayValue, "id")) "
                    + "uris=\(uris) access=\(access) preAuthorized=\(preAuthorized) keys=\(ids(app["keyCredentials"]?.arrayValue, "keyId")) "
                    + "secrets=\(app["passwordCredentials"]?.arrayValue?.count ?? 0) fic=\(credentials) owners=\(owners)")
        }
        for principal in principals {
            let id = principal["id"]?.stringValue ?? ""
            let key = n(id)
            keys.append(key)
            let owners = await tenant.relationship("owners", of: id).map { n($0) }.sorted().joined(separator: ",")
            lines.append(
                "\(key) enabled=\(principal["accountEnabled"]?.boolValue ?? true) required=\(principal["appRoleAssignmentRequired"]?.boolValue ?? false) "
                    + "tags=\(principal["tags"]?.stringArray?.joined(separator: ",") ?? "") owners=\(owners)")
            for assignment in await tenant.relationship("appRoleAssignedTo", of: id) {
                guard let object = await tenant.directoryObject(assignment) else { continue }
                let line = "assignment \(n(object["principalId"]?.stringValue)) → \(key) role=\(object["appRoleId"]?.stringValue ?? "")"
                keys.append(line)
                lines.append(line)
            }
        }
        for grant in await tenant.objects(ofType: "oauth2PermissionGrant") {
            let line =
                "grant \(n(grant["clientId"]?.stringValue)) → \(n(grant["resourceId"]?.stringValue)) \(grant["consentType"]?.stringValue ?? "") "
                + "\(n(grant["principalId"]?.stringValue)) scope=\(grant["scope"]?.stringValue ?? "")"
            keys.append(line.components(separatedBy: " scope=")[0])
            lines.append(line)
        }
        var counts: [String: Int] = [:]
        for key in keys { counts[key, default: 0] += 1 }
        return AppPicture(lines: lines.sorted(), duplicates: counts.filter { $0.value > 1 }.map(\.key).sorted())
    }
}

extension FakeTenant {
    /// One app role assignment by id.
    func directoryObject(_ id: String) -> JSONObject? {
        objects(ofType: "appRoleAssignment").first { $0["id"]?.stringValue == id }
    }
}

@Suite struct ApplicationStagesTests {
    static let rebuild = Fixtures.runbook("rebuild-new-tenant.yaml")

    @Test func tabletopRecreatesAppsEnterpriseAppsAssignmentsAndConsents() async throws {
        let directory = try TemporaryDirectory("apps")
        let drill = try await Drill("apps", in: directory, snapshot: try AppsFixture.snapshot(in: directory))
        #expect(try await drill.executor().run() == .completed)

        let snapshot = drill.snapshot
        let idMap = IDMap(try await drill.store.idMapEntries())
        let apps = await drill.tenant.objects(ofType: "application")
        #expect(apps.count == snapshot.applications.count)
        let picture = await AppPicture.of(drill.tenant)
        #expect(picture.duplicates.isEmpty, "\(picture.duplicates)")

        var newAppIDs: [String: String] = [:]
        for app in snapshot.applications {
            let entry = try #require(idMap.entry(for: app.id))
            #expect(entry.objectType == .application && entry.how == .created)
            #expect(entry.oldAppID == app.appId)
            let target = try #require(apps.first { $0["id"]?.stringValue == entry.newID })
            let newAppID = try #require(target["appId"]?.stringValue)
            #expect(entry.newAppID == newAppID && newAppID != app.appId)
            #expect(target["uniqueName"]?.stringValue == "lifeboat-\(app.id)")
            newAppIDs[app.appId] = newAppID
            // App role and scope ids are kept.
            func ids(_ value: JSONValue?) -> [String] { (value?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }.sorted() }
            #expect(ids(target["appRoles"]) == ids(app.properties["appRoles"]))
            #expect(ids(target["api"]?["oauth2PermissionScopes"]) == ids(app.properties["api"]?["oauth2PermissionScopes"]))
            #expect(target["passwordCredentials"]?.arrayValue?.isEmpty != false)
        }
        let api = try #require(apps.first { $0["displayName"]?.stringValue == "Contoso Expenses API" })
        let web = try #require(apps.first { $0["displayName"]?.stringValue == "Contoso Expenses Web" })
        let daemon = try #require(apps.first { $0["displayName"]?.stringValue == "HR Sync Daemon" })
        let apiAppID = try #require(api["appId"]?.stringValue), webAppID = try #require(web["appId"]?.stringValue)
        // api://{oldAppId} now names the new appId.
        #expect(api["identifierUris"]?.stringArray == ["api://\(apiAppID)"])
        // References between restored apps point at new appIds; Microsoft Graph's stays.
        #expect(
            Set(web["requiredResourceAccess"]?.arrayValue?.compactMap { $0["resourceAppId"]?.stringValue } ?? []) == [
                AppsFixture.graphAppID, apiAppID,
            ])
        #expect(daemon["requiredResourceAccess"]?.arrayValue?.compactMap { $0["resourceAppId"]?.stringValue } == [apiAppID])
        #expect(api["api"]?["preAuthorizedApplications"]?.arrayValue?.compactMap { $0["appId"]?.stringValue } == [webAppID])
        // The certificate whose key was captured came back; the federated credential too; owners of the app.
        #expect(web["keyCredentials"]?.arrayValue?.count == 1)
        #expect(await drill.tenant.relationship("federatedIdentityCredentials", of: daemon["id"]!.stringValue!).count == 1)
        let apiOwners = Set(await drill.tenant.relationship("owners", of: api["id"]!.stringValue!))
        #expect(apiOwners == Set([AppsFixture.priya, AppsFixture.arjun].compactMap(idMap.newID(for:))))

        // Enterprise apps: one per appId; Microsoft Graph's was adopted, not created.
        let principals = await drill.tenant.objects(ofType: "servicePrincipal")
        let graphPrincipals = principals.filter { $0["appId"]?.stringValue == AppsFixture.graphAppID }
        #expect(graphPrincipals.count == 1)
        let graphSource = try #require(snapshot.servicePrincipals.first { $0.appId == AppsFixture.graphAppID })
        let graphEntry = try #require(idMap.entry(for: graphSource.id))
        #expect(graphEntry.how == .adopted && graphEntry.newID == graphPrincipals[0]["id"]?.stringValue)
        for principal in snapshot.servicePrincipals where principal.appId != AppsFixture.graphAppID {
            let entry = try #require(idMap.entry(for: principal.id))
            #expect(entry.how == .created && entry.newAppID == newAppIDs[principal.appId])
            #expect(principals.filter { $0["appId"]?.stringValue == entry.newAppID }.count == 1)
        }
        let daemonPrincipal = try #require(idMap.newID(for: AppsFixture.hrDaemonPrincipal))
        #expect(await drill.tenant.relationship("owners", of: daemonPrincipal) == [idMap.newID(for: AppsFixture.priya)].compactMap { $0 })

        // Every app role assignment exists once, with remapped principal and resource and the same appRoleId.
        let assignments = await drill.tenant.objects(ofType: "appRoleAssignment")
        #expect(assignments.count == snapshot.appRoleAssignments.count)
        for assignment in snapshot.appRoleAssignments {
            let principal = try #require(idMap.newID(for: assignment.principalId)),
                resource = try #require(idMap.newID(for: assignment.resourceId))
            #expect(
                assignments.filter {
                    $0["principalId"]?.stringValue == principal && $0["resourceId"]?.stringValue == resource
                        && $0["appRoleId"]?.stringValue == assignment.appRoleId
                }.count == 1, "assignment \(assignment.id)")
        }
        // Every consent grant exists once, remapped, with the same scope.
        let grants = await drill.tenant.objects(ofType: "oauth2PermissionGrant")
        #expect(grants.count == snapshot.oauth2PermissionGrants.count)
        for grant in snapshot.oauth2PermissionGrants {
            let client = try #require(idMap.newID(for: grant.clientId)), resource = try #require(idMap.newID(for: grant.resourceId))
            let principal = grant.principalId.flatMap(idMap.newID(for:))
            #expect(
                grants.filter {
                    $0["clientId"]?.stringValue == client && $0["resourceId"]?.stringValue == resource
                        && $0["consentType"]?.stringValue == grant.consentType
                        && $0["principalId"]?.stringValue == principal && $0["scope"]?.stringValue == grant.scope
                }.count == 1, "grant \(grant.id)")
        }

        // What could not come back is a follow-up with something to do.
        let followUps = try await drill.store.followUps().map(\.followUp)
        #expect(
            followUps.contains {
                $0.category == "client-secret" && $0.message.contains("prod-appservice-2025") && $0.message.contains("Xq8")
            })
        #expect(
            followUps.contains {
                $0.category == "certificate" && $0.message.contains("CN=hr-sync-daemon.contoso.com") && $0.action.contains("re-upload")
            })
        #expect(!followUps.contains { $0.category == "certificate" && $0.message.contains("expenses-web-signing") })
    }

    @Test func issueSecretsWritesOneNewSecretPerOldOneToA0600File() async throws {
        let directory = try TemporaryDirectory("secrets")
        let secretsFile = directory.path("app-secrets.csv")
        let runbook = try String(contentsOf: Self.rebuild, encoding: .utf8).replacingOccurrences(
            of: """
                    kind: apps.create
                    title: Recreate application registrations
                """,
            with: """
                    kind: apps.create
                    title: Recreate application registrations
                    options:
                      issueSecrets: true
                      secretsFile: \(secretsFile)
                """)
        #expect(runbook.contains("issueSecrets"))
        try runbook.write(toFile: directory.path("runbook.yaml"), atomically: true, encoding: .utf8)
        let drill = try await Drill(
            "secrets", in: directory, runbook: directory.path("runbook.yaml"),
            snapshot: try AppsFixture.snapshot(in: directory))
        #expect(try await drill.executor().run() == .completed)

        let web = try #require(
            await drill.tenant.objects(ofType: "application").first { $0["displayName"]?.stringValue == "Contoso Expenses Web" })
        #expect(web["passwordCredentials"]?.arrayValue?.compactMap { $0["displayName"]?.stringValue } == ["prod-appservice-2025"])
        let attributes = try FileManager.default.attributesOfItem(atPath: secretsFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let lines = try String(contentsOfFile: secretsFile, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("\(web["appId"]!.stringValue!),prod-appservice-2025,") == true)
        // The secret is in the file only: never in the checkpoint.
        let secret = String(lines.first?.split(separator: ",").last ?? "")
        #expect(secret.count > 10)
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: directory.path("secrets.sqlite")))
        #expect(checkpoint.range(of: Data(secret.utf8)) == nil)
        let followUps = try await drill.store.followUps().map(\.followUp)
        #expect(followUps.contains { $0.category == "client-secret" && $0.message.contains("reissued") })

        // Lost responses of the addPassword cannot be repaired silently: no second secret, a follow-up instead.
        let again = try await Drill(
            "secrets-lost", in: directory, runbook: directory.path("runbook.yaml"),
            snapshot: directory.url.appendingPathComponent("snapshot"))
        try? FileManager.default.removeItem(atPath: secretsFile)
        #expect(try await again.executor(droppingEvery: 1) { $0.url.hasSuffix("/addPassword") }.run() == .completed)
        let webAgain = try #require(
            await again.tenant.objects(ofType: "application").first { $0["displayName"]?.stringValue == "Contoso Expenses Web" })
        #expect(webAgain["passwordCredentials"]?.arrayValue?.count == 1)
        #expect(
            try await again.store.followUps().contains {
                $0.followUp.category == "client-secret" && $0.followUp.message.contains("never arrived")
            })
    }

    /// A malicious admin purges the apps of a tenant whose users and groups survive: apps-and-consents, from a snapshot of
    /// that tenant, brings the apps back and re-grants roles and consent to the users and groups by their unchanged ids.
    @Test func appsAndConsentsRestoresDeletedAppsInPlace() async throws {
        let directory = try TemporaryDirectory("in-place")
        let rebuilt = try await Drill("rebuilt", in: directory, snapshot: try AppsFixture.snapshot(in: directory))
        #expect(try await rebuilt.executor().run() == .completed)
        let tenant = rebuilt.tenant

        // The tenant's own backup, taken before the incident.
        let capture = directory.url.appendingPathComponent("capture")
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        var apps: [JSONValue] = []
        for var app in await tenant.objects(ofType: "application") {
            let owners = await tenant.relationship("owners", of: app["id"]!.stringValue!)
            app["owners"] = .array(owners.map { ["@odata.type": "#microsoft.graph.user", "id": .string($0)] })
            apps.append(.object(app))
        }
        var principals: [JSONObject] = []
        for var principal in await tenant.objects(ofType: "servicePrincipal")
        where principal["appOwnerOrganizationId"]?.stringValue == tenant.tenantID {
            let owners = await tenant.relationship("owners", of: principal["id"]!.stringValue!)
            if !owners.isEmpty { principal["owners"] = .array(owners.map { ["@odata.type": "#microsoft.graph.user", "id": .string($0)] }) }
            principals.append(principal)
        }
        let graph = await tenant.objects(ofType: "servicePrincipal").filter { $0["appId"]?.stringValue == AppsFixture.graphAppID }
        let files: [(String, [JSONObject])] = [
            ("servicePrincipals.json", principals + graph), ("appRoleAssignments.json", await tenant.objects(ofType: "appRoleAssignment")),
            ("oauth2PermissionGrants.json", await tenant.objects(ofType: "oauth2PermissionGrant")),
        ]
        try JSONCoding.encode(JSONValue.object(["value": .array(apps)])).write(to: capture.appendingPathComponent("applications.json"))
        for (name, objects) in files {
            try JSONCoding.encode(JSONValue.object(["value": .array(objects.map(JSONValue.object))])).write(
                to: capture.appendingPathComponent(name))
        }
        _ = try Snapshot.writeManifest(
            in: capture, sourceTenantId: tenant.tenantID, sourceInitialDomain: tenant.initialDomain,
            capturedAt: Date(), toolVersion: "test")
        let before = await AppPicture.of(tenant)

        // The incident: apps and their enterprise apps are deleted for good.
        try await tenant.delete(
            ids: (apps.compactMap { $0["id"]?.stringValue }) + principals.compactMap { $0["id"]?.stringValue }, purge: true)
        #expect(await tenant.objects(ofType: "application").isEmpty)

        let restore = try await Drill(
            "restore", in: directory, tenant: tenant, clock: rebuilt.clock, runbook: "apps-and-consents.yaml",
            snapshot: capture)
        #expect(try await restore.executor().run() == .completed)
        let snapshot = restore.snapshot
        let idMap = IDMap(try await restore.store.idMapEntries())
        // Every assignment is back on the new enterprise app, for the same (surviving) user, group or restored app.
        for assignment in snapshot.appRoleAssignments {
            let resource = try #require(idMap.newID(for: assignment.resourceId))
            let principal = idMap.newID(for: assignment.principalId) ?? assignment.principalId
            var found: [JSONObject] = []
            for id in await tenant.relationship("appRoleAssignedTo", of: resource) {
                if let object = await tenant.directoryObject(id), object["principalId"]?.stringValue == principal,
                    object["appRoleId"]?.stringValue == assignment.appRoleId
                {
                    found.append(object)
                }
            }
            #expect(found.count == 1, "\(assignment.properties["principalDisplayName"]?.stringValue ?? assignment.id)")
        }
        let grants = await tenant.objects(ofType: "oauth2PermissionGrant")
        for grant in snapshot.oauth2PermissionGrants {
            let client = try #require(idMap.newID(for: grant.clientId))
            #expect(
                grants.filter { $0["clientId"]?.stringValue == client && $0["principalId"]?.stringValue == grant.principalId }.count == 1)
        }
        #expect(!(try await restore.store.followUps()).contains { $0.followUp.category == "unresolved-reference" })
        // Apps, owners and enterprise apps look as they did, except for the secret that could not come back.
        let after = await AppPicture.of(tenant)
        #expect(after.duplicates.isEmpty)
        #expect(after.lines.filter { $0.hasPrefix("app:") }.count == before.lines.filter { $0.hasPrefix("app:") }.count)
        #expect(after.lines.filter { $0.contains("owners=user:") }.count == before.lines.filter { $0.contains("owners=user:") }.count)
    }

    @Test func issueSecretsWithoutAFileIsRefusedBeforeAnything() throws {
        let runbook = try Runbook.parse(
            """
            name: x
            stages:
              - id: apps
                kind: apps.create
                options:
                  issueSecrets: true
            """, file: "x.yaml", catalog: StageCatalog.specs)
        let error = try #require(throws: StageConfigurationError.self) { try StageCatalog.make(runbook.stages[0]) }
        #expect(error.description.contains("secretsFile"))
    }

    /// The writes each stage kind makes, to lose their responses while the rest of the rebuild runs normally.
    struct LostWrites: Sendable, CustomTestStringConvertible {
        var kind: String
        var every: Int
        var matches: @Sendable (HTTPRequest) -> Bool
        var testDescription: String { "\(kind), every \(every)" }

        static func path(_ request: HTTPRequest) -> String {
            let path = request.url.replacingOccurrences(of: FakeTenantTransport.baseURL, with: "")
            return path.removingPercentEncoding ?? path
        }

        static let all: [LostWrites] = [1, 2].flatMap { every in
            [
                LostWrites(kind: "apps.create", every: every) {
                    let path = path($0)
                    return path.hasPrefix("/applications(uniqueName") || path.hasSuffix("/federatedIdentityCredentials")
                        || ($0.method == "PATCH" && path.hasPrefix("/applications/"))
                },
                LostWrites(kind: "apps.link", every: every) { $0.method == "PATCH" && path($0).hasPrefix("/applications/") },
                LostWrites(kind: "servicePrincipals.create", every: every) { path($0).hasPrefix("/servicePrincipals(") },
                LostWrites(kind: "apps.owners", every: every) { path($0).hasSuffix("/owners/$ref") && !path($0).hasPrefix("/groups") },
                LostWrites(kind: "appRoleAssignments.create", every: every) { path($0).hasSuffix("/appRoleAssignedTo") },
                LostWrites(kind: "oauth2Grants.create", every: every) { path($0).hasPrefix("/oauth2PermissionGrants") },
            ]
        }
    }

    @Test(arguments: LostWrites.all)
    func lostResponsesAreReconciledToTheSameEndState(_ lost: LostWrites) async throws {
        let directory = try TemporaryDirectory("apps-lost")
        let snapshotURL = try AppsFixture.snapshot(in: directory)
        let reference = try await Drill("reference", in: directory, snapshot: snapshotURL)
        #expect(try await reference.executor().run() == .completed)
        let expected = await AppPicture.of(reference.tenant)

        let drill = try await Drill("lost", in: directory, snapshot: snapshotURL)
        let lossy = WriteCounter()
        #expect(try await drill.executor(droppingEvery: lost.every, where: lost.matches, counting: lossy).run() == .completed)
        #expect(lossy.value >= lost.every, "the stage kind's writes went through the lossy transport")
        let actual = await AppPicture.of(drill.tenant)
        #expect(actual.duplicates.isEmpty, "\(actual.duplicates)")
        #expect(actual == expected, "\(actual)\n--- expected ---\n\(expected)")
        // The ID map is as complete as the reference's.
        let rows = try await drill.store.idMapEntries(), referenceRows = try await reference.store.idMapEntries()
        #expect(Set(rows.map(\.oldID)) == Set(referenceRows.map(\.oldID)))
    }

    @Test func aSecondRunAdoptsEveryAppObjectInsteadOfDuplicating() async throws {
        let directory = try TemporaryDirectory("apps-again")
        let snapshotURL = try AppsFixture.snapshot(in: directory)
        let first = try await Drill("first", in: directory, snapshot: snapshotURL)
        #expect(try await first.executor().run() == .completed)
        let picture = await AppPicture.of(first.tenant)
        let writes = await first.tenant.writeCount
        #expect(try await first.executor().run() == .completed)
        #expect(await first.tenant.writeCount == writes)

        // A second run with a fresh checkpoint against the same target.
        let second = try await Drill("second", in: directory, tenant: first.tenant, clock: first.clock, snapshot: snapshotURL)
        #expect(try await second.executor().run() == .completed)
        #expect(await AppPicture.of(first.tenant) == picture)
        let entries = try await second.store.idMapEntries()
        #expect(entries.allSatisfy { $0.how == .adopted })
    }
}
