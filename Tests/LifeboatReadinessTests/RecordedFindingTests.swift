import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatReadiness
import LifeboatTestSupport
import Testing

/// The detail a `readiness.finding` event carries is what the report reads back as ``RecordedFinding``: the writer's
/// encoding and the reader's type cannot drift apart unnoticed.
@Suite struct RecordedFindingTests {
    @Test func aRecordedVerdictReadsBackFieldForField() async throws {
        let fixture = try ReadinessFixture()
        try fixture.edit("applications.json") { app in
            app["passwordCredentials"] = [["keyId": "00000000-0000-0000-0000-000000000001", "displayName": "old secret"]]
        }
        let report = try fixture.assess()
        #expect(!report.findings.isEmpty)
        let store = try CheckpointStore(path: fixture.directory.path("state.sqlite"))
        try await report.record(in: store, simulatedSeconds: nil)

        let read = try await store.eventDetails(.readinessFinding).compactMap { $0.detail.flatMap(RecordedFinding.init(detail:)) }
        #expect(read.count == report.findings.count)
        for (finding, recorded) in zip(report.findings, read) {
            #expect(recorded.severity == finding.severity.rawValue && recorded.kind == finding.kind.rawValue)
            #expect(recorded.summary == finding.summary && recorded.fix == finding.fix && recorded.objectCount == finding.objectCount)
            #expect(recorded.objects.map(\.name) == finding.objects.prefix(recorded.objects.count).map(\.name))
            #expect(recorded.objects.map(\.type) == finding.objects.prefix(recorded.objects.count).map(\.type))
        }
        #expect(try await store.eventDetails(.readinessAssessed).count == 1)
    }

    @Test func aDetailThatIsNotAnObjectIsNotAFinding() {
        #expect(RecordedFinding(detail: .string("x")) == nil)
        let sparse = RecordedFinding(detail: ["summary": "only this"])
        #expect(sparse?.summary == "only this" && sparse?.severity == "info" && sparse?.kind == "unknown" && sparse?.objects == [])
    }
}
