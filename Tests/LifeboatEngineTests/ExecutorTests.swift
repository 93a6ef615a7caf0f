import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatRunbook
import LifeboatSQLite
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// The engine tests' drill: ``TabletopDrill`` (LifeboatTestSupport).
typealias Drill = TabletopDrill

@Suite struct TabletopOfTheExampleTests {
    @Test func everyObjectExistsOnceAndEveryReferencePointsAtNewIDs() async throws {
        let drill = try await Drill("example")
        #expect(try await drill.executor().run() == .completed)

        let snapshot = drill.snapshot
        let idMap = IDMap(try await drill.store.idMapEntries())
        let restorable = snapshot.users.filter { !$0.onPremisesSyncEnabled }
        let users = await drill.tenant.objects(ofType: "user")
        // The Temporary Access Pass method targets groups, so temporaryAccessPass.enable adds one of its own (issue 13 item 3,
        // resources/temporaryaccesspassauthenticationmethodconfiguration.md): every other group comes from the snapshot.
        let groups = await drill.tenant.objects(ofType: "group").filter { $0["uniqueName"] != "lifeboat-recovery-admins" }
        #expect(users.count == restorable.count)
        #expect(groups.count == snapshot.groups.count)
        #expect(
            idMap.entries.values.filter { $0.objectType == .user || $0.objectType == .group }.count == restorable.count
                + snapshot.groups.count)
        #expect(await TenantPicture.of(drill.tenant).duplicates.isEmpty)

        // Every user is there by its mapped UPN, with its new id in the map.
        let newIDs = Set(users.compactMap { $0["id"]?.stringValue })
        for user in restorable {
            let entry = try #require(idMap.entry(for: user.id))
            #expect(newIDs.contains(entry.newID))
            #expect(entry.how == .created)
            #expect(entry.newID != user.id)
        }
        // Memberships and owners: every source reference that was restored points at the new object.
        for group in snapshot.groups {
            let newGroup = try #require(idMap.newID(for: group.id))
            let members = Set(await drill.tenant.relationship("members", of: newGroup))
            let owners = Set(await drill.tenant.relationship("owners", of: newGroup))
            let expectedMembers = group.isDynamic ? [] : Set(group.members.compactMap { idMap.newID(for: $0.id) })
            #expect(members == expectedMembers, "members of \(group.displayName)")
            #expect(owners == Set(group.owners.compactMap { idMap.newID(for: $0.id) }), "owners of \(group.displayName)")
        }
        // The guest came back through an invitation; the synced user is a follow-up, not an object.
        let guest = try #require(snapshot.users.first { $0.isGuest })
        #expect(users.contains { $0["id"]?.stringValue == idMap.newID(for: guest.id) && $0["userType"]?.stringValue == "Guest" })
        let followUps = try await drill.store.followUps()
        #expect(followUps.contains { $0.followUp.category == "synced-object" })
        #expect(FileManager.default.fileExists(atPath: drill.directory.path("idmap.csv")))
    }

    @Test func runningAFinishedRunAgainMakesNoWrites() async throws {
        let drill = try await Drill("idempotent")
        #expect(try await drill.executor().run() == .completed)
        let writes = await drill.tenant.writeCount
        let picture = await TenantPicture.of(drill.tenant)
        #expect(try await drill.executor().run() == .completed)
        #expect(await drill.tenant.writeCount == writes)
        #expect(await TenantPicture.of(drill.tenant) == picture)
    }

    @Test func aSecondRunAgainstAFilledTargetAdoptsInsteadOfDuplicating() async throws {
        let first = try await Drill("first")
        #expect(try await first.executor().run() == .completed)
        let picture = await TenantPicture.of(first.tenant)

        let second = try await Drill("second", tenant: first.tenant, clock: first.clock)
        #expect(try await second.executor().run() == .completed)
        #expect(await TenantPicture.of(first.tenant) == picture)
        let entries = try await second.store.idMapEntries()
        // The recovery admins' group (temporaryAccessPass.enable) is no snapshot object and has no ID-map entry.
        #expect(picture.groups["group:lifeboat-recovery-admins"] == 1)
        #expect(
            entries.filter { $0.objectType == .user || $0.objectType == .group }.count == picture.users.count + picture.groups.count - 1)
        #expect(entries.allSatisfy { $0.how == .adopted })
    }

    @Test func lostResponsesAreReconciledWithoutDuplicates() async throws {
        let reference = try await Drill("reference")
        #expect(try await reference.executor().run() == .completed)

        let drill = try await Drill("ambiguous")
        // Every third write is applied by the tenant but its response never arrives.
        #expect(try await drill.executor(dropEvery: 3).run() == .completed)
        let picture = await TenantPicture.of(drill.tenant)
        #expect(picture.duplicates.isEmpty)
        #expect(picture == (await TenantPicture.of(reference.tenant)))
        let events = try await drill.store.events()
        #expect(events.contains { $0.kind == "operation.adopted" })
    }

    @Test func pausesAtGatesUntilApproved() async throws {
        let drill = try await Drill("gates")
        let outcome = try await drill.executor(gates: .pause).run()
        guard case .pausedAtGate(let stage, let instructions) = outcome else {
            Issue.record("expected a pause, got \(outcome)")
            return
        }
        #expect(stage == "create-tenant")
        #expect(instructions.contains("contosodr.onmicrosoft.com"))
        #expect(await drill.tenant.writeCount == 0)
        #expect(try await drill.store.approveGate(stage, by: "Ada", note: "tenant created", simulatedSeconds: nil))
        #expect(try await drill.store.approveGate(stage, by: "Eve", note: nil, simulatedSeconds: nil) == false)
        // The next gate (enabling Conditional Access) stops the run again until someone approves it too.
        var next = try await drill.executor(gates: .pause).run()
        while case .pausedAtGate(let gate, _) = next {
            #expect(gate != stage)
            #expect(try await drill.store.approveGate(gate, by: "Ada", note: nil, simulatedSeconds: nil))
            next = try await drill.executor(gates: .pause).run()
        }
        #expect(next == .completed)
        let gate = try #require(try await drill.store.gate(stage))
        #expect(gate.decidedBy == "Ada")
        #expect(try await drill.store.events().contains { $0.kind == "gate.approved" && $0.message.contains("Ada") })
    }

    @Test func theEventLogIsAppendOnly() async throws {
        let drill = try await Drill("events")
        #expect(try await drill.executor().run() == .completed)
        let connection = try LifeboatSQLiteProbe(path: drill.statePath)
        #expect(throws: (any Error).self) { try connection.run("UPDATE events SET message = 'rewritten'") }
        #expect(throws: (any Error).self) { try connection.run("DELETE FROM events") }
    }
}

@Suite struct FailureAndResumeTests {
    @Test func aFailedStageStopsTheRunAndResumeRetriesIt() async throws {
        let drill = try await Drill("failure")
        // A half-configured target: its domain is not verified, so every user create is refused.
        try await drill.tenant.addDomain("contosodr.onmicrosoft.com", verified: false)
        let outcome = try await drill.executor().run()
        guard case .failed(let stage, let count) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(stage == "users")
        #expect(count > 0)
        let failed = try await drill.store.allOperations(stageID: "users").filter { $0.state == .failed }
        #expect(failed.allSatisfy { $0.errorCode == "Request_BadRequest" && $0.requestID != nil })

        try await drill.tenant.addDomain("contosodr.onmicrosoft.com", verified: true)
        #expect(try await drill.executor().run() == .completed)
        #expect(await TenantPicture.of(drill.tenant).duplicates.isEmpty)
    }
}

/// Direct SQL access to a checkpoint, to prove what the store itself never does.
typealias LifeboatSQLiteProbe = SQLiteConnection
