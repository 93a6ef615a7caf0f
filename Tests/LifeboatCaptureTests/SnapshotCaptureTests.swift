import Foundation
import LifeboatCapture
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestServer
import LifeboatTestSupport
import Testing

/// What only the capture may hold: what the fake tenant is born with and Contoso's snapshot left out
/// (Microsoft's first-party service principals and the built-in role definitions).
func tenantBuiltIns(_ type: ObjectType, _ object: JSONObject) -> Bool {
    switch type {
    case .servicePrincipal: object["appOwnerOrganizationId"] == "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    case .roleDefinition: object["isBuiltIn"] == true
    default: false
    }
}

@Suite struct SnapshotCaptureTests {
    @Test func aSecretCaptureOfContosoReadsBackEveryObjectAndRelationship() async throws {
        let rig = try await CaptureRig.start()
        let progress = ProgressLog()
        let captured = try await rig.capture(rig.client(tokens: try rig.secretCredentials()), into: "snap", progress: progress)

        #expect(SnapshotComparison.differences(rig.source, captured, extras: tenantBuiltIns) == [])
        // Relationships came back inline, as in the example.
        let e5 = try #require(captured.groups.first { $0.displayName == "LIC-Microsoft365-E5" })
        #expect(e5.members.count == 35)
        #expect(captured.users.filter { $0.manager != nil }.count == 35)
        let capturedUnitMembers: Int = captured.administrativeUnits.map(\.members.count).reduce(0, +)
        let sourceUnitMembers: Int = rig.source.administrativeUnits.map(\.members.count).reduce(0, +)
        #expect(capturedUnitMembers == sourceUnitMembers)
        #expect(
            Set(captured.roleAssignments.map(\.directoryScopeId)) == [
                "/", "/administrativeUnits/e041eb2a-f9ff-45b4-a70d-49ea7ca611b3",
                "/64c08d17-7782-4ceb-a734-741cc7d92c89",
            ])
        // The manifest: every collection with its count, the delta links listed too.
        #expect(captured.manifest.sourceTenantId == rig.source.manifest.sourceTenantId)
        #expect(captured.manifest.sourceInitialDomain == "contoso.onmicrosoft.com")
        #expect(captured.manifest.files.count == ObjectType.allCases.count + 1)
        #expect(captured.manifest.files[Snapshot.deltaLinksFileName] != nil)
        #expect(captured.manifest.files["users.json"]?.count == 40)
        // One progress line per collection, with its count.
        #expect(progress.all.map(\.type) == ObjectType.allCases)
        #expect(progress.line(.user)?.description == "users: 40")
        // Nothing but the snapshot was left next to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: rig.directory.url.path) == ["snap"])
        await rig.stop()
    }

    @Test func aCertificateCaptureReadsTheSameTenant() async throws {
        let certificate = try TestCertificate.generate()
        let rig = try await CaptureRig.start(certificate: certificate)
        let credential = try ClientCertificate(privateKeyPEM: certificate.privateKeyPEM, certificatePEM: certificate.certificatePEM)
        let tokens = rig.credentials(.certificate(credential))
        let captured = try await rig.capture(rig.client(tokens: tokens), into: "snap")
        #expect(SnapshotComparison.differences(rig.source, captured, extras: tenantBuiltIns) == [])
        #expect(await tokens.tokensIssued == 1)
        await rig.stop()
    }

    @Test func anExpiredTokenIsRenewedMidCapture() async throws {
        // Two-second tokens, and a capture slowed to take several seconds of simulated time: it needs more than one token.
        let clock = VirtualClock()
        let rig = try await CaptureRig.start(tokenLifetime: 2, clock: clock)
        let tokens = try rig.secretCredentials()
        let slow = ScriptedTransport(rig.transport, advancing: clock, by: 0.15)
        let captured = try await rig.capture(rig.client(tokens: tokens, transport: slow), into: "snap")
        #expect(clock.elapsed > 2.5)
        #expect(await tokens.tokensIssued >= 2)
        #expect(SnapshotComparison.differences(rig.source, captured, extras: tenantBuiltIns) == [])
        await rig.stop()
    }

    @Test func aCaptureThatFailsMidwayLeavesNoSnapshot() async throws {
        let rig = try await CaptureRig.start()
        // The connection dies after the users were read.
        let failing = ScriptedTransport(rig.transport, failAfter: 6)
        let output = rig.directory.url.appendingPathComponent("snap")
        let capture = SnapshotCapture(graph: rig.client(tokens: try rig.secretCredentials(), transport: failing))
        await #expect(throws: GraphError.self) {
            _ = try await capture.capture(CaptureOptions(output: output, toolVersion: "test"))
        }
        #expect(failing.count > 6)
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: rig.directory.url.path) == [])

        // A cancelled capture cleans up the same way.
        let holding = ScriptedTransport(rig.transport, holdAt: 6)
        let cancelled = SnapshotCapture(graph: rig.client(tokens: try rig.secretCredentials(), transport: holding))
        let task = Task { try await cancelled.capture(CaptureOptions(output: output, toolVersion: "test")) }
        // Cancelled while its sixth request is in flight (after the users were read), not after a guessed delay.
        for await _ in holding.held { break }
        task.cancel()
        _ = await task.result
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: rig.directory.url.path) == [])
        await rig.stop()
    }

    @Test func anExistingOutputIsNeverOverwritten() async throws {
        let rig = try await CaptureRig.start()
        let output = rig.directory.url.appendingPathComponent("snap")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        let counting = ScriptedTransport(rig.transport)
        let capture = SnapshotCapture(graph: rig.client(tokens: try rig.secretCredentials(), transport: counting))
        let error = await #expect(throws: CaptureError.self) {
            _ = try await capture.capture(CaptureOptions(output: output, toolVersion: "test"))
        }
        #expect(error?.problem.contains("already exists") == true)
        #expect(counting.count == 0)
        await rig.stop()
    }

    @Test func anIncrementalCaptureAppliesOnlyTheChangesToUsersAndGroups() async throws {
        let rig = try await CaptureRig.start()
        let graph = rig.client(tokens: try rig.secretCredentials())
        _ = try await rig.capture(graph, into: "monday")

        // Changes through Graph: a new user, a renamed one, a new manager, a deleted user (a group member and
        // a manager), a new group with members, a member added, a deleted group (itself a nested member).
        let users = Dictionary(rig.source.users.map { ($0.displayName, $0.id) }, uniquingKeysWith: { first, _ in first })
        let groups = Dictionary(rig.source.groups.map { ($0.displayName, $0.id) }, uniquingKeysWith: { first, _ in first })
        let created = try await graph.send(
            GraphRequest(
                "POST", "/users",
                body: [
                    "accountEnabled": true, "displayName": "Noah Fischer", "mailNickname": "noah.fischer",
                    "userPrincipalName": "noah.fischer@contoso.com",
                    "passwordProfile": ["password": "Temp-Pa55-word!", "forceChangePasswordNextSignIn": true],
                ])
        ).object["id"]?.stringValue
        let newUser = try #require(created)
        let renamed = try #require(rig.source.users.first { $0.manager != nil && !$0.displayName.hasPrefix("Amelia") })
        _ = try await graph.send(GraphRequest("PATCH", "/users/\(renamed.id)", body: ["jobTitle": "Head of Recovery"]))
        let managerOfMany = try #require(
            rig.source.users.first { candidate in
                rig.source.users.contains { $0.manager?.id == candidate.id } && candidate.id != renamed.id && candidate.manager != nil
            })
        _ = try await graph.send(
            GraphRequest(
                "PUT", "/users/\(newUser)/manager/$ref",
                body: ["@odata.id": .string("\(graph.baseURL)/users/\(renamed.id)")]))
        _ = try await graph.send(GraphRequest("DELETE", "/users/\(managerOfMany.id)"))
        let newGroup = try #require(
            try await graph.send(
                GraphRequest(
                    "POST", "/groups",
                    body: [
                        "displayName": "SG-Recovery-Team", "mailEnabled": false, "mailNickname": "sg-recovery", "securityEnabled": true,
                        "members@odata.bind": [.string("\(graph.baseURL)/directoryObjects/\(newUser)")],
                        "owners@odata.bind": [.string("\(graph.baseURL)/directoryObjects/\(renamed.id)")],
                    ])
            ).object["id"]?.stringValue)
        let finance = try #require(groups["SG-Finance"])
        _ = try await graph.send(
            GraphRequest(
                "POST", "/groups/\(finance)/members/$ref",
                body: ["@odata.id": .string("\(graph.baseURL)/directoryObjects/\(newUser)")]))
        let legal = try #require(groups["SG-Legal"])
        _ = try await graph.send(GraphRequest("DELETE", "/groups/\(legal)"))
        #expect(users.count == 40)

        let progress = ProgressLog()
        let tuesday = try await rig.capture(
            graph, into: "tuesday", base: rig.directory.url.appendingPathComponent("monday"), progress: progress)
        let full = try await rig.capture(graph, into: "tuesday-full")
        // The incremental snapshot is exactly what a full capture reads now.
        #expect(SnapshotComparison.differences(full, tuesday) == [])
        #expect(tuesday.users.count == 40)
        #expect(tuesday.groups.count == 14)
        #expect(tuesday.users.first { $0.id == newUser }?.manager?.id == renamed.id)
        #expect(tuesday.users.first { $0.id == renamed.id }?.properties["jobTitle"] == "Head of Recovery")
        #expect(!tuesday.users.contains { $0.manager?.id == managerOfMany.id })
        #expect(tuesday.groups.first { $0.id == newGroup }?.owners.map(\.id) == [renamed.id])
        #expect(tuesday.groups.first { $0.id == finance }?.members.contains { $0.id == newUser } == true)
        #expect(!tuesday.groups.contains { group in group.members.contains { $0.id == legal || $0.id == managerOfMany.id } })
        // Only the changed users and groups were read again.
        let userLine = try #require(progress.line(.user))
        #expect(userLine.changed == 2 && userLine.removed == 1, "\(userLine)")
        let groupLine = try #require(progress.line(.group))
        #expect(groupLine.changed == 2 && groupLine.removed == 1, "\(groupLine)")

        // A second incremental capture with no changes in between changes nothing.
        let wednesday = try await rig.capture(
            graph, into: "wednesday", base: rig.directory.url.appendingPathComponent("tuesday"), progress: ProgressLog())
        #expect(SnapshotComparison.differences(tuesday, wednesday) == [])
        await rig.stop()
    }

    @Test func anIncrementalCaptureRefusesABaseOfAnotherTenant() async throws {
        let rig = try await CaptureRig.start()
        let other = try Fixtures.copyContoso(into: rig.directory, as: "other")
        var manifest = try JSONCoding.decode(SnapshotManifest.self, from: Data(contentsOf: other.appendingPathComponent("manifest.json")))
        manifest.sourceTenantId = "00000000-1111-2222-3333-444444444444"
        try JSONCoding.encodePretty(manifest).write(to: other.appendingPathComponent("manifest.json"))
        let capture = SnapshotCapture(graph: rig.client(tokens: try rig.secretCredentials()))
        let error = await #expect(throws: CaptureError.self) {
            _ = try await capture.capture(
                CaptureOptions(output: rig.directory.url.appendingPathComponent("snap"), base: other, toolVersion: "test"))
        }
        #expect(error?.problem.contains("00000000-1111-2222-3333-444444444444") == true)
        #expect(!FileManager.default.fileExists(atPath: rig.directory.path("snap")))
        await rig.stop()
    }

    @Test(arguments: CapturedProperties.selections.map(\.type))
    func everySelectedPropertyExistsInGraphV1(_ type: String) throws {
        let properties = try #require(CapturedProperties.selections.first { $0.type == type }?.properties)
        let definition = try #require(GraphSchema.v1.type(named: type))
        #expect(properties.filter { definition.properties[$0] == nil } == [])
        #expect(Set(properties).count == properties.count)
    }
}
