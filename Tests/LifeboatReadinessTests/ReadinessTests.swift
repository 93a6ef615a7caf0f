import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatReadiness
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// A copy of the Contoso example with everything a readiness check would flag taken out, which a test then spoils
/// in one way; and a copy of the rebuild runbook that keeps the generated passwords.
struct ReadinessFixture {
    let directory: TemporaryDirectory
    let snapshotURL: URL
    let runbookURL: URL
    let captured: Date

    init() throws {
        directory = try TemporaryDirectory("readiness")
        snapshotURL = try Fixtures.copyContoso(into: directory)
        runbookURL = directory.url.appendingPathComponent("rebuild.yaml")
        let shipped = try String(contentsOf: Fixtures.runbook("rebuild-new-tenant.yaml"), encoding: .utf8)
        // The users.create stage (the first with a upnDomainMap) keeps its passwords in a file.
        var keeping = shipped
        let usersOptions = try #require(
            shipped.range(of: "    options:\n      upnDomainMap:\n"), "the rebuild runbook's users stage changed shape")
        keeping.replaceSubrange(usersOptions, with: "    options:\n      passwordFile: initial-passwords.csv\n      upnDomainMap:\n")
        try keeping.write(to: runbookURL, atomically: true, encoding: .utf8)
        captured = try Snapshot.load(from: snapshotURL).manifest.capturedDate!

        // Clean: no synced user, no client secret, no certificate without its key, no enforced MFA policy.
        try edit("users.json") { user in
            if user["onPremisesSyncEnabled"] != nil { user["onPremisesSyncEnabled"] = false }
        }
        try edit("applications.json") { app in
            app["passwordCredentials"] = []
            app["keyCredentials"] = .array((app["keyCredentials"]?.arrayValue ?? []).filter { $0["key"]?.stringValue?.isEmpty == false })
        }
        try edit("conditionalAccessPolicies.json") { policy in
            if policy["grantControls"]?["builtInControls"]?.stringArray == ["mfa"] {
                var grant = policy["grantControls"]?.objectValue ?? [:]
                grant["builtInControls"] = ["compliantDevice"]
                policy["grantControls"] = .object(grant)
            }
        }
    }

    /// Rewrites every object of a snapshot file (and re-seals the manifest).
    func edit(_ file: String, _ change: (inout JSONObject) -> Void) throws {
        try Fixtures.rewrite(file, in: snapshotURL) { data in
            var list = (try? JSONCoding.decode(data))?["value"]?.arrayValue ?? []
            for index in list.indices {
                guard var object = list[index].objectValue else { continue }
                change(&object)
                list[index] = .object(object)
            }
            return (try? JSONCoding.encode(JSONValue.object(["value": .array(list)]))) ?? data
        }
    }

    /// Changes the object with this display name or UPN.
    func edit(_ file: String, named name: String, _ change: @escaping (inout JSONObject) -> Void) throws {
        try edit(file) { object in
            if object["displayName"]?.stringValue == name || object["userPrincipalName"]?.stringValue == name { change(&object) }
        }
    }

    func assess(runbook: URL? = nil, parameters: [String: String] = [:], daysAfterCapture: Double = 1, estimate: Double? = nil) throws
        -> ReadinessReport
    {
        let snapshot = try Snapshot.load(from: snapshotURL)
        let builtins = [
            "target.initialDomain": "contosodr.onmicrosoft.com", "target.tenantId": "",
            "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId, "snapshot.initialDomain": "contoso.onmicrosoft.com",
        ]
        let loaded = try Runbook.load(
            contentsOf: runbook ?? runbookURL, catalog: StageCatalog.specs, parameters: parameters,
            fileParameters: Fixtures.contosoParameters, builtins: builtins)
        return Readiness.assess(
            Readiness.Input(
                snapshot: snapshot, runbook: loaded, now: captured.addingTimeInterval(daysAfterCapture * 86_400),
                estimatedRTOSeconds: estimate))
    }
}

@Suite struct ReadinessTests {
    @Test func aCleanSnapshotHasNoFindings() throws {
        let fixture = try ReadinessFixture()
        let report = try fixture.assess(estimate: 7 * 3600)
        #expect(report.findings.isEmpty, "\(report.text())")
        #expect(!report.hasCritical)
    }

    /// Asserts that the clean fixture lacks the kind, and the spoilt one has it with this severity.
    private func expectFinding(
        _ kind: ReadinessFinding.Kind, _ severity: ReadinessSeverity, object: String? = nil,
        spoil: (ReadinessFixture) throws -> Void, assess: (ReadinessFixture) throws -> ReadinessReport = { try $0.assess() }
    ) throws {
        let fixture = try ReadinessFixture()
        #expect(!(try fixture.assess().kinds.contains(kind)))
        try spoil(fixture)
        let report = try assess(fixture)
        let found = report.findings.filter { $0.kind == kind }
        #expect(found.contains { $0.severity == severity }, "\(report.text())")
        if let object {
            #expect(found.contains { $0.objects.contains { $0.name == object || $0.id == object } }, "\(report.text())")
        }
        #expect(found.allSatisfy { !$0.fix.isEmpty })
    }

    @Test func clientSecretsCannotBeRestored() throws {
        try expectFinding(.clientSecrets, .warning, object: "Contoso Expenses Web") { fixture in
            try fixture.edit("applications.json", named: "Contoso Expenses Web") {
                $0["passwordCredentials"] = [["keyId": "k1", "displayName": "prod"]]
            }
        }
    }

    @Test func certificatesWithoutTheirKey() throws {
        try expectFinding(.certificatesWithoutKey, .warning, object: "HR Sync Daemon") { fixture in
            try fixture.edit("applications.json", named: "HR Sync Daemon") {
                $0["keyCredentials"] = [["keyId": "c1", "type": "AsymmetricX509Cert"]]
            }
        }
    }

    @Test func passwordsThatAreNotKept() throws {
        try expectFinding(
            .passwordsNotKept, .warning, spoil: { _ in }, assess: { try $0.assess(runbook: Fixtures.runbook("rebuild-new-tenant.yaml")) })
    }

    @Test func usersWhoMustRegisterMFAAgain() throws {
        try expectFinding(.authenticationMethods, .info, object: "adm-aisha.bello@contoso.com") { fixture in
            try fixture.edit("conditionalAccessPolicies.json", named: "Require MFA for admins") {
                $0["grantControls"] = ["operator": "OR", "builtInControls": ["mfa"]]
            }
        }
    }

    @Test func syncedObjects() throws {
        try expectFinding(.syncedObjects, .warning, object: "tom.becker@contoso.com") { fixture in
            try fixture.edit("users.json", named: "tom.becker@contoso.com") { $0["onPremisesSyncEnabled"] = true }
        }
    }

    @Test func licencesAndUsageLocation() throws {
        try expectFinding(.licences, .info, object: "wei.chen@contoso.com") { fixture in
            try fixture.edit("users.json", named: "wei.chen@contoso.com") {
                $0["assignedLicenses"] = [["skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06"]]
            }
        }
        try expectFinding(.licencesWithoutUsageLocation, .warning, object: "wei.chen@contoso.com") { fixture in
            try fixture.edit("users.json", named: "wei.chen@contoso.com") { user in
                user["assignedLicenses"] = [["skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06"]]
                user["usageLocation"] = .null
            }
        }
    }

    @Test func mailEnabledSecurityGroups() throws {
        try expectFinding(.mailEnabledSecurityGroups, .warning, object: "SG-IT") { fixture in
            try fixture.edit("groups.json", named: "SG-IT") { $0["mailEnabled"] = true }
        }
    }

    @Test func breakGlassAccountsMissingDisabledOrNotExcluded() throws {
        // Named but absent from the snapshot.
        try expectFinding(
            .breakGlass, .critical, object: "nobody@contoso.com", spoil: { _ in },
            assess: { try $0.assess(parameters: ["breakGlass2": "nobody@contoso.com"]) })
        // Disabled.
        try expectFinding(.breakGlass, .critical, object: "bg-admin-02@contoso.onmicrosoft.com") { fixture in
            try fixture.edit("users.json", named: "bg-admin-02@contoso.onmicrosoft.com") { $0["accountEnabled"] = false }
        }
        // Not excluded from an enforced policy.
        try expectFinding(.breakGlass, .warning, object: "Block sign-in from blocked countries") { fixture in
            try fixture.edit("conditionalAccessPolicies.json", named: "Block sign-in from blocked countries") { policy in
                var conditions = policy["conditions"]?.objectValue ?? [:]
                conditions["users"] = ["includeUsers": ["All"], "excludeUsers": []]
                policy["conditions"] = .object(conditions)
            }
        }
        // None named at all.
        try expectFinding(
            .breakGlass, .warning,
            spoil: { fixture in
                let text = try String(contentsOf: fixture.runbookURL, encoding: .utf8)
                let stripped = text.components(separatedBy: "\n").filter { !$0.contains("breakGlass:") && !$0.contains("- ${breakGlass") }
                    .joined(separator: "\n")
                try stripped.write(to: fixture.runbookURL, atomically: true, encoding: .utf8)
            })
    }

    @Test func policiesThatWouldLockOutTheOperator() throws {
        try expectFinding(.operatorLockout, .critical, object: "Block sign-in from blocked countries") { fixture in
            // Blocking every location instead of a few countries blocks the operator, who is not excluded.
            try fixture.edit("conditionalAccessPolicies.json", named: "Block sign-in from blocked countries") { policy in
                var conditions = policy["conditions"]?.objectValue ?? [:]
                conditions["locations"] = ["includeLocations": ["All"], "excludeLocations": []]
                policy["conditions"] = .object(conditions)
            }
        }
    }

    @Test func anOperatorWhoIsNotInTheSnapshot() throws {
        try expectFinding(
            .operatorMissing, .warning, object: "ghost@contoso.com", spoil: { _ in },
            assess: { try $0.assess(parameters: ["operator": "ghost@contoso.com"]) })
    }

    @Test func referencesToObjectsTheSnapshotLacks() throws {
        let missing = "00000000-dead-4bad-beef-000000000001"
        try expectFinding(.danglingReferences, .warning, object: "SG-IT") { fixture in
            try fixture.edit("groups.json", named: "SG-IT") { group in
                group["members"] = .array(
                    (group["members"]?.arrayValue ?? []) + [["@odata.type": "#microsoft.graph.user", "id": .string(missing)]])
            }
        }
        try expectFinding(.danglingReferences, .warning, object: "Block legacy authentication") { fixture in
            try fixture.edit("conditionalAccessPolicies.json", named: "Block legacy authentication") { policy in
                var conditions = policy["conditions"]?.objectValue ?? [:]
                var users = conditions["users"]?.objectValue ?? [:]
                users["excludeGroups"] = .array((users["excludeGroups"]?.arrayValue ?? []) + [.string(missing)])
                conditions["users"] = .object(users)
                policy["conditions"] = .object(conditions)
            }
        }
        try expectFinding(.danglingReferences, .warning) { fixture in
            try fixture.edit("roleAssignments.json") { $0["principalId"] = .string(missing) }
        }
    }

    @Test func snapshotAgeAgainstTheRecycleBin() throws {
        let inPlace = Fixtures.runbook("restore-in-place.yaml")
        try expectFinding(.snapshotAge, .critical, spoil: { _ in }, assess: { try $0.assess(runbook: inPlace, daysAfterCapture: 31) })
        try expectFinding(.snapshotAge, .warning, spoil: { _ in }, assess: { try $0.assess(runbook: inPlace, daysAfterCapture: 25) })
        try expectFinding(.snapshotAge, .warning, spoil: { _ in }, assess: { try $0.assess(daysAfterCapture: 45) })
        let fixture = try ReadinessFixture()
        #expect(!(try fixture.assess(runbook: inPlace, daysAfterCapture: 10).kinds.contains(.snapshotAge)))
    }

    @Test func estimatedRecoveryTimeOverTheObjective() throws {
        // The rebuild runbook's objective is 8h.
        try expectFinding(.rtoOverObjective, .critical, spoil: { _ in }, assess: { try $0.assess(estimate: 9 * 3600) })
    }

    @Test func findingsAreOrderedAndRenderedWithTheirFix() throws {
        let fixture = try ReadinessFixture()
        try fixture.edit("users.json", named: "tom.becker@contoso.com") { $0["onPremisesSyncEnabled"] = true }
        let report = try fixture.assess(estimate: 9 * 3600)
        #expect(report.findings.map(\.severity) == report.findings.map(\.severity).sorted())
        let text = report.text()
        #expect(text.contains("CRITICAL [rtoOverObjective]"))
        #expect(text.contains("fix: restore them in the source AD"))
        let decoded = try JSONCoding.decode(ReadinessReport.self, from: try JSONCoding.encode(report))
        #expect(decoded == report)
    }
}
