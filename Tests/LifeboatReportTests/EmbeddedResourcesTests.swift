import Foundation
import LifeboatFakeTenant
import LifeboatReport
import LifeboatTestSupport
import Testing

/// The compiled-in resources are the files under Sources/ (Scripts/embed-resources.py writes them).
@Suite struct EmbeddedResourcesTests {
    static let regenerate = "python3 Scripts/embed-resources.py"

    static func files(under target: String, _ directories: [String]) throws -> [String: String] {
        var files: [String: String] = [:]
        for directory in directories {
            let url = Fixtures.repositoryRoot.appendingPathComponent("Sources/\(target)/\(directory)")
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                files["\(directory)/\(name)"] = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
            }
        }
        return files
    }

    @Test func theFakeTenantsProfilesAndSchemaAreCompiledIn() throws {
        let onDisk = try Self.files(under: "LifeboatFakeTenant", ["Profiles", "Resources"])
        #expect(Set(FakeTenantResources.files.keys) == Set(onDisk.keys), "regenerate: \(Self.regenerate)")
        for (path, text) in onDisk {
            #expect(FakeTenantResources.files[path] == text, "\(path) differs from its compiled-in copy; regenerate: \(Self.regenerate)")
        }
        #expect(FakeTenantProfile.shipped == ["chaos", "fast", "realistic"])
        #expect(try FakeTenantProfile.named("chaos").name == "chaos")
        #expect(GraphSchema.v1.type(named: "user") != nil)
    }

    @Test func theReportTemplatesAreCompiledIn() throws {
        let onDisk = try Self.files(under: "LifeboatReport", ["Templates"])
        #expect(Set(ReportResources.files.keys) == Set(onDisk.keys), "regenerate: \(Self.regenerate)")
        for (path, text) in onDisk {
            #expect(ReportResources.files[path] == text, "\(path) differs from its compiled-in copy; regenerate: \(Self.regenerate)")
        }
        let templates = try ReportTemplates.load()
        #expect(templates.css.text == onDisk["Templates/report.css"])
    }
}
