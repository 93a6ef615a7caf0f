import Foundation
import LifeboatTestSupport
import Testing

/// What a test starts ends with it: its directory is removed when the test lets go of it, and a child process is ended,
/// awaited and gone from the process table when its scope ends. (At exit, `TestRun` fails the whole run if a directory
/// of this run or a child process is still there.)
@Suite struct NothingOutlivesATestTests {
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test(.disabled(if: TestRun.keepsDirectories, "LIFEBOAT_KEEP_TEST_DIRS=1 keeps every directory"))
    func aTestDirectoryIsRemovedWhenItsScopeEnds() async throws {
        let scoped = try await withTemporaryDirectory("scoped") { directory in
            try FileManager.default.createDirectory(atPath: directory.path("nested/deeper"), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory.path("nested/deeper/file")))
            #expect(directory.url.lastPathComponent.hasPrefix(TestRun.prefix))
            #expect(TestRun.leftoverDirectories().contains(directory.url.path))
            return directory.url.path
        }
        #expect(!exists(scoped))

        let lexical: String
        do {
            let directory = try TemporaryDirectory("lexical")
            lexical = directory.url.path
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory.path("file")))
            #expect(exists(lexical))
        }
        #expect(!exists(lexical))
        #expect(!TestRun.leftoverDirectories().contains(lexical))
    }

    @Test func aServingLifeboatIsEndedAndGoneWhenItsScopeEnds() async throws {
        let directory = try TemporaryDirectory("children")
        let pid = try await withChildProcess(["fake-tenant", "serve", "--port", "0"], in: directory) { child in
            // Polls the child's output until it listens (at most 30 s: a loaded machine starts it slowly).
            for _ in 0..<3_000 where child.isRunning && !child.output.contains("listening on http://127.0.0.1:") {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(child.isRunning, "\(child.output)")
            #expect(TestRun.liveChildren().contains { $0.pid == child.pid })
            return child.pid
        }
        #expect(!TestRun.liveChildren().contains { $0.pid == pid })
        // Without --state its generated client secret goes to the temporary directory: the test's (TMPDIR), not /tmp.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).contains { $0.hasSuffix(".client-secret") })
    }

    @Test func aChildThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() async throws {
        let directory = try TemporaryDirectory("stubborn")
        // An ignored signal stays ignored across exec: `sleep` ignores SIGTERM, like `openssl s_server`.
        let child = try ChildProcess(["-c", "trap '' TERM; exec sleep 600"], executable: URL(fileURLWithPath: "/bin/sh"), in: directory)
        #expect(child.isRunning)
        try await child.end(grace: .milliseconds(100))
        #expect(!child.isRunning)
        #expect(child.isGone)
        #expect(!TestRun.liveChildren().contains { $0.pid == child.pid })
    }

    @Test func aKilledRunsDirectoriesAreRemovedByTheNextRunUnlessKept() async throws {
        let directory = try TemporaryDirectory("pids")
        // A pid that is gone: a child that ended and was reaped.
        let ended = try ChildProcess([], executable: URL(fileURLWithPath: "/bin/true"), in: directory)
        await ended.wait()
        let root = FileManager.default.temporaryDirectory
        let killed = root.appendingPathComponent("lifeboat-test-\(ended.pid)-zzzzzz-killed-\(UUID().uuidString.prefix(8))")
        let kept = root.appendingPathComponent("lifeboat-test-\(ended.pid)-zzzzzz-kept-\(UUID().uuidString.prefix(8))")
        let alive = root.appendingPathComponent("lifeboat-test-\(getpid())-zzzzzz-alive-\(UUID().uuidString.prefix(8))")
        for url in [killed, kept, alive] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        FileManager.default.createFile(atPath: kept.appendingPathComponent(".lifeboat-kept").path, contents: nil)
        defer { for url in [killed, kept, alive] { try? FileManager.default.removeItem(at: url) } }

        TestRun.removeKilledRunsDirectories()
        #expect(!exists(killed.path))
        #expect(exists(kept.path))
        #expect(exists(alive.path), "a live pid's directories stay")
    }
}

/// The end-of-run check can fail: a run of this test binary whose only test leaves a directory and a child process
/// behind exits with status 1 and names both.
@Suite struct EndOfRunCheckTests {
    static let probing = ProcessInfo.processInfo.environment["LIFEBOAT_LEAK_PROBE"] == "1"

    @Test(.disabled(if: probing || TestRun.keepsDirectories, "the probe run itself, or directories kept on purpose"))
    func aRunThatLeavesSomethingBehindFails() async throws {
        let directory = try TemporaryDirectory("leak-check")
        // The probe's temporary directories go to this test's directory (TMPDIR), removed with it.
        let result = try await runLifeboat(
            ["--testing-library", "swift-testing", "--filter", "EndOfRunCheckTests/leakProbe"], in: directory,
            environment: ["LIFEBOAT_LEAK_PROBE": "1"], executable: URL(fileURLWithPath: CommandLine.arguments[0]))
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("error: test directory left behind: \(directory.url.path)/lifeboat-test-"), "\(result.stderr)")
        #expect(result.stderr.contains("error: child process still running at the end of the tests: "), "\(result.stderr)")
    }

    /// Leaks on purpose, only in the probe run: a directory never released and a child never ended (it stops by itself once
    /// the probe process is gone).
    @Test(.enabled(if: probing))
    func leakProbe() throws {
        let directory = try TemporaryDirectory("leaked")
        _ = Unmanaged.passRetained(directory)
        let child = try ChildProcess(
            ["-c", "while kill -0 $PPID 2>/dev/null; do sleep 0.1; done"], executable: URL(fileURLWithPath: "/bin/sh"),
            in: directory)
        _ = Unmanaged.passRetained(child)
    }
}
