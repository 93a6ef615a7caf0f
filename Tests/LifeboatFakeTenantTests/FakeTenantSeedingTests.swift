import Foundation
import LifeboatFakeTenant
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct FakeTenantSeedingTests {
    @Test func contosoSeedsUsersGuestsGroupsAndTheirLinks() async throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "contosodr.onmicrosoft.com")
        let report = await tenant.seed(from: snapshot)
        #expect(report.failures.isEmpty, "\(report)")
        #expect(report.created[.user] == snapshot.users.count)
        #expect(report.created[.domain] == 2)
        let mailEnabledSecurity = snapshot.groups.filter { $0.mailEnabled && !$0.isUnified }.count
        #expect(report.created[.group] == snapshot.groups.count - mailEnabledSecurity)
        #expect(report.links > 0)
        // UPNs on the source's initial domain move to the fake's.
        let users = await tenant.objects(ofType: "user")
        #expect(users.contains { $0["userPrincipalName"]?.stringValue == "bg-admin-01@contosodr.onmicrosoft.com" })
        // Nested groups resolve to the fake's new ids.
        let allStaff = try #require(snapshot.groups.first { $0.displayName == "SG-All-Staff" })
        let newID = try #require(report.idMap[allStaff.id])
        let members = await tenant.relationship("members", of: newID)
        #expect(members.count == allStaff.members.filter { report.idMap[$0.id] != nil }.count)
        // What the fake cannot hold yet is counted, not lost silently.
        #expect(report.skipped.keys.contains { $0.hasPrefix("applications") })
        #expect(report.skipped.keys.contains { $0.hasPrefix("managers") })
    }
}
