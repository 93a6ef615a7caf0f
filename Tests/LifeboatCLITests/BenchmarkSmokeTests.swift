import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `Benchmarks/benchmark.py --smoke` (the S tenant, in process) against the lifeboat built next to the tests: the harness
/// keeps working, and what it reports is read from real runs. Its figures are not judged here (no timed assertions).
@Suite struct BenchmarkSmokeTests {
    @Test func theHarnessMeasuresASmallTenantInProcess() async throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else {
            print("BenchmarkSmokeTests skipped: the harness needs /usr/bin/python3 and GNU time (/usr/bin/time, Debian package `time`)")
            return
        }
        let directory = try TemporaryDirectory("benchmark-smoke")
        let harness = try await runLifeboat(
            [
                Fixtures.repositoryRoot.appendingPathComponent("Benchmarks/benchmark.py").path, "--smoke",
                "--bin", Fixtures.lifeboatBinary.path, "--work", directory.path("work"),
                "--json", directory.path("results.json"), "--markdown", directory.path("results.md"),
            ],
            in: directory, executable: URL(fileURLWithPath: python))
        let output = harness.stdout + harness.stderr
        try #require(harness.status == 0, "\(output)")

        let results = try JSONCoding.decode(Data(contentsOf: directory.url.appendingPathComponent("results.json")))
        let run = try #require(results["inProcess"]?.arrayValue?.first)
        #expect(run["users"]?.numberValue == 1_000)
        let tabletop = try #require(run["tabletop"])
        #expect(tabletop["exit"]?.numberValue == 0)
        #expect((tabletop["writeUnits"]?.numberValue ?? 0) > 0, "\(output)")
        #expect((tabletop["simulatedSeconds"]?.numberValue ?? 0) > 0)
        #expect((tabletop["graphSeconds"]?.numberValue ?? 0) > 0)
        #expect((tabletop["peakRSSMiB"]?.numberValue ?? 0) > 0)
        #expect(run["rerunFinished"]?["exit"]?.numberValue == 0)
        #expect(run["status"]?["exit"]?.numberValue == 0)
        let resume = try #require(run["killAndResume"])
        #expect(resume["firstNewWriteSeconds"]?.numberValue != nil, "the resumed run's first write was not seen: \(output)")
        #expect(resume["resume"]?["exit"]?.numberValue == 0)
        #expect(results["http"]?.isNull == true)
        let table = try String(contentsOf: directory.url.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(table.contains("| S (1,000 users, seed 42) |"), "\(table)")
    }
}
