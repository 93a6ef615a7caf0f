import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// `licenses.assign` and `users.accessPasses` on a copy of the example with licences added.
@Suite struct CredentialStagesTests {
    static let e5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
    static let ems = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
    static let visio = "c5928f49-12ba-48f7-ada3-0d743a3601d5"

    /// Amelia (CEO) gets E5 directly and EMS from a group, Visio (not bought by the target) directly; Liam has E5 but no usageLocation.
    static func setup(_ name: String) async throws -> TabletopDrill {
        let directory = try TemporaryDirectory(name)
        let copy = try Fixtures.copyContoso(into: directory)
        try Fixtures.rewrite("users.json", in: copy) { data in
            var json = (try? JSONCoding.decode(data))?.objectValue ?? [:]
            var users = json["value"]?.arrayValue?.compactMap(\.objectValue) ?? []
            for index in users.indices {
                let upn = users[index]["userPrincipalName"]?.stringValue ?? ""
                if upn == "amelia.hart@contoso.com" {
                    users[index]["assignedLicenses"] = [
                        ["skuId": .string(e5), "disabledPlans": []], ["skuId": .string(ems), "disabledPlans": []],
                        ["skuId": .string(visio), "disabledPlans": []],
                    ]
                    users[index]["licenseAssignmentStates"] = [
                        ["skuId": .string(e5), "assignedByGroup": nil, "state": "Active"],
                        ["skuId": .string(ems), "assignedByGroup": "102bf73c-c3e9-4723-abc6-661814733822", "state": "Active"],
                        ["skuId": .string(visio), "assignedByGroup": nil, "state": "Active"],
                    ]
                } else if index == 5 {
                    users[index]["assignedLicenses"] = [["skuId": .string(e5), "disabledPlans": []]]
                    users[index]["usageLocation"] = nil
                }
            }
            json["value"] = .array(users.map(JSONValue.object))
            return (try? JSONCoding.encode(JSONValue.object(json))) ?? data
        }
        try """
        lifeboat: 1
        name: credentials
        stages:
          - id: users
            kind: users.create
            options:
              upnDomainMap:
                contoso.com: ${target.initialDomain}
                eu.contoso.com: ${target.initialDomain}
                fabrikam-labs.com: ${target.initialDomain}
                contoso.onmicrosoft.com: ${target.initialDomain}
          - id: licenses
            kind: licenses.assign
          - id: passes
            kind: users.accessPasses
            options:
              users: [amelia.hart@contoso.com]
              secretsFile: \(directory.path("passes.csv"))
              lifetime: 4h
        """.write(toFile: directory.path("runbook.yaml"), atomically: true, encoding: .utf8)
        let clock = VirtualClock()
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "contosodr.onmicrosoft.com", clock: { clock.instant })
        try await tenant.addSubscribedSku(skuId: e5, skuPartNumber: "SPE_E5", units: 10)
        try await tenant.addSubscribedSku(skuId: ems, skuPartNumber: "EMS", units: 10)
        return try await TabletopDrill(
            name, in: directory, tenant: tenant, clock: clock, runbook: directory.path("runbook.yaml"), snapshot: copy,
            parameters: [:])
    }

    func user(_ upnPrefix: String, in tenant: FakeTenant) async -> JSONObject? {
        await tenant.objects(ofType: "user").first { $0["userPrincipalName"]?.stringValue?.hasPrefix(upnPrefix + "@") == true }
    }

    @Test func directLicencesAreAssignedAndWhatCannotBeIsAFollowUp() async throws {
        let setup = try await Self.setup("licenses")
        #expect(try await setup.executor().run() == .completed)

        let amelia = try #require(await user("amelia.hart", in: setup.tenant))
        let skus = Set((amelia["assignedLicenses"]?.arrayValue ?? []).compactMap { $0["skuId"]?.stringValue })
        #expect(skus == [Self.e5], "only the direct licence the target has: EMS came from a group, Visio was not bought")
        let followUps = try await setup.store.followUps().map(\.followUp).filter { $0.category == "license" }
        #expect(followUps.contains { $0.message.contains(Self.visio) && $0.action.contains("buy") })
        #expect(followUps.contains { $0.message.contains("no usageLocation") })
        #expect(!followUps.contains { $0.message.contains(Self.ems) })

        // One Temporary Access Pass, its value in a 0600 file, never in the checkpoint.
        let passes = try String(contentsOfFile: setup.directory.path("passes.csv"), encoding: .utf8).split(separator: "\n")
        #expect(passes.count == 2 && passes[1].hasPrefix("temporary-access-pass,amelia.hart@contoso.com,"))
        let value = String(passes[1].split(separator: ",").last ?? "")
        #expect(value.count == 16)
        let permissions = try FileManager.default.attributesOfItem(atPath: setup.directory.path("passes.csv"))[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let database = try Data(contentsOf: URL(fileURLWithPath: setup.statePath))
        #expect(!String(decoding: database, as: UTF8.self).contains(value))
    }

    @Test func lostResponsesNeitherDoubleLicencesNorLeaveTwoPasses() async throws {
        let setup = try await Self.setup("licenses-ambiguous")
        // Every third write is applied and its response lost: the ambiguous case.
        let outcome = try await setup.executor(dropEvery: 3).run()
        let failures =
            try await setup.store.operations(stageID: "passes", state: .failed)
            + setup.store.operations(stageID: "licenses", state: .failed)
        #expect(outcome == .completed, "\(failures)")
        let amelia = try #require(await user("amelia.hart", in: setup.tenant))
        #expect((amelia["assignedLicenses"]?.arrayValue ?? []).count == 1)
        let id = try #require(amelia["id"]?.stringValue)
        let methods = await setup.tenant.handle(
            HTTPRequest(method: "GET", url: FakeTenantTransport.baseURL + "/users/\(id)/authentication/temporaryAccessPassMethods"))
        #expect(try JSONCoding.decode(methods.body)["value"]?.arrayValue?.count == 1)
        // The licence unit was consumed once.
        let skus = await setup.tenant.handle(HTTPRequest(method: "GET", url: FakeTenantTransport.baseURL + "/subscribedSkus"))
        let e5 = try JSONCoding.decode(skus.body)["value"]?.arrayValue?.first { $0["skuId"]?.stringValue == Self.e5 }
        #expect(e5?["consumedUnits"]?.numberValue == 1)
        // The last pass written for Amelia is the live one.
        let lines = try String(contentsOfFile: setup.directory.path("passes.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 2)
    }
}
