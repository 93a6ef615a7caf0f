import Foundation
import LifeboatTestSupport
import Testing

/// `lifeboat` installs by copying: its profiles, Graph schema and report templates are compiled in, so the binary alone,
/// in a directory of its own, runs a tabletop and writes its report. (The static release build, which also carries the
/// Swift runtime and Foundation, is checked by Scripts/check-portable-binary.sh.)
@Suite struct PortableBinaryTests {
    @Test func theBinaryAloneRunsATabletopFromAnEmptyDirectory() async throws {
        let directory = try TemporaryDirectory("portable")
        let binary = directory.url.appendingPathComponent("lifeboat")
        // Copied by `cp`, not in this process: a file this process held open for writing could be inherited by a child
        // another test forks meanwhile, and exec would then fail with "Text file busy".
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = [Fixtures.lifeboatBinary.path, binary.path]
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            copy.terminationHandler = { _ in continuation.resume() }
            do { try copy.run() } catch {
                copy.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        #expect(copy.terminationStatus == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["lifeboat"])

        let run = try await runTabletop(
            state: "drill/contoso.sqlite", in: directory, ["--report", "drill/report.html", "--profile", "realistic"],
            executable: binary)
        #expect(run.status == 0, "\(run.stderr)")
        let html = try String(contentsOf: directory.url.appendingPathComponent("drill/report.html"), encoding: .utf8)
        #expect(html.contains("@media print"))  // the compiled-in stylesheet
        #expect(html.contains("<section id=\"summary\">"))
    }
}
