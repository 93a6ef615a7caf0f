import Foundation
import LifeboatFakeTenant
import LifeboatTestSupport
import Testing

/// One process per run: N `lifeboat` processes started at once on one `--state`, on a new run and on an interrupted one.
@Suite struct RunLockTests {
    static let processes = ProcessInfo.processInfo.environment["LIFEBOAT_LONG_TESTS"] == "1" ? 40 : 10

    func picture(_ directory: TemporaryDirectory, state: String) async throws -> TenantPicture {
        await TenantPicture.of(try FakeTenant(stateFile: directory.path(state + ".fake-tenant.sqlite")))
    }

    /// Starts `count` processes together and waits for all of them.
    func together(_ count: Int, _ start: @escaping @Sendable () async throws -> ProcessResult) async throws -> [ProcessResult] {
        try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<count { group.addTask { try await start() } }
            var results: [ProcessResult] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    /// Exactly one process worked the run (printed that it started or resumed it); every other one was refused with a
    /// message naming the holder (exit 2), or came after it had finished and found nothing to do (exit 0).
    func expectOneWorker(_ results: [ProcessResult], marker: String) {
        let workers = results.filter { $0.stdout.contains(marker) }
        #expect(workers.count == 1, "\(results.map { "\($0.status): \($0.stdout.suffix(200)) \($0.stderr.suffix(300))" })")
        #expect(workers.first?.status == 0, "\(workers.first?.stderr ?? "")")
        for other in results where !other.stdout.contains(marker) {
            if other.status == 2 {
                #expect(
                    other.stderr.contains("is in use by process ") || other.stderr.contains("is in use by another process"),
                    "\(other.stderr)")
                #expect(other.stderr.contains("Nothing was written"), "\(other.stderr)")
                #expect(!other.stderr.contains("SQLite error"), "\(other.stderr)")
            } else {
                #expect(other.status == 0 && other.stdout.contains("already complete"), "\(other.status): \(other.stdout)\n\(other.stderr)")
            }
        }
    }

    @Test func manyProcessesOnANewRunLeaveOneWorking() async throws {
        let directory = try TemporaryDirectory("lock-new")
        let reference = try await runTabletop(state: directory.path("reference.sqlite"), in: directory)
        #expect(reference.status == 0, "\(reference.stderr)")

        let results = try await together(Self.processes) { try await runTabletop(state: directory.path("drill.sqlite"), in: directory) }
        expectOneWorker(results, marker: "Tabletop run ")
        let refused = results.filter { $0.status == 2 }
        #expect(!refused.isEmpty, "no process was refused: they did not overlap")
        // The refusal names the holder: its pid, its host and since when.
        if let named = refused.first(where: { $0.stderr.contains("is in use by process ") }) {
            #expect(named.stderr.contains(" on \(ProcessInfo.processInfo.hostName) since "), "\(named.stderr)")
        }

        let actual = try await picture(directory, state: "drill.sqlite")
        #expect(actual.duplicates.isEmpty, "\(actual.duplicates)")
        #expect(actual == (try await picture(directory, state: "reference.sqlite")))
    }

    @Test func manyProcessesResumingOneRunLeaveOneWorking() async throws {
        let directory = try TemporaryDirectory("lock-resume")
        let reference = try await runTabletop(state: directory.path("reference.sqlite"), in: directory)
        #expect(reference.status == 0, "\(reference.stderr)")
        // A SIGKILLed holder leaves no stale lock: the resumes below take it.
        let killed = try await runTabletop(state: directory.path("drill.sqlite"), in: directory, ["--simulate-crash", "response:7@users"])
        #expect(killed.killedBySignal, "\(killed.stderr)")

        let results = try await together(Self.processes) {
            try await runLifeboat(["resume", "--state", directory.path("drill.sqlite")], in: directory)
        }
        expectOneWorker(results, marker: "Resuming run ")

        let actual = try await picture(directory, state: "drill.sqlite")
        #expect(actual.duplicates.isEmpty, "\(actual.duplicates)")
        #expect(actual == (try await picture(directory, state: "reference.sqlite")))
    }
}
