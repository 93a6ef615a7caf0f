import Foundation
import LifeboatFakeTenant
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct FakeTenantImportTests {
    @Test func contosoImportsEveryObjectWithItsOriginalIDAndLinks() async throws {
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let tenant = try FakeTenant(stateFile: nil, tenantID: snapshot.manifest.sourceTenantId, initialDomain: "contoso.onmicrosoft.com")
        let count = try await tenant.importSnapshot(snapshot)
        #expect(count > 0)
        let users = await tenant.objects(ofType: "user")
        #expect(Set(users.compactMap { $0["id"]?.stringValue }) == Set(snapshot.users.map(\.id)))
        #expect(users.contains { $0["userPrincipalName"]?.stringValue == "bg-admin-01@contoso.onmicrosoft.com" })
        #expect(await tenant.objects(ofType: "domain").filter { $0["isVerified"] == true }.count == 3)
        // Nested groups keep their original ids and members.
        let allStaff = try #require(snapshot.groups.first { $0.displayName == "SG-All-Staff" })
        #expect(Set(await tenant.relationship("members", of: allStaff.id)) == Set(allStaff.members.map(\.id)))
        // Managers, applications and policies come along too.
        let managed = try #require(snapshot.users.first { $0.manager != nil })
        #expect(await tenant.relationship("manager", of: managed.id) == [managed.manager!.id])
        #expect(await tenant.objects(ofType: "application").count == snapshot.applications.count)
        #expect(await tenant.objects(ofType: "conditionalAccessPolicy").count == snapshot.conditionalAccessPolicies.count)
        // Importing again changes nothing.
        #expect(try await tenant.importSnapshot(snapshot) == 0)
    }
}
