import Foundation
import Synchronization

/// A directory of its own for one test, named under this test run's prefix (``TestRun/prefix``) so that a run's
/// leftovers can be told from another run's. It is removed when the test lets go of it: the last reference ends with
/// the test's scope (Swift's lexical lifetimes keep it alive across every call in that scope). With
/// `LIFEBOAT_KEEP_TEST_DIRS=1` it is kept, and its path printed, for looking into a failed test.
package final class TemporaryDirectory: Sendable {
    package let url: URL

    package init(_ name: String = "test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(TestRun.prefix)\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        TestRun.watch()
    }

    deinit {
        if TestRun.keepsDirectories {
            // Marked, so that a later run does not take it for a killed run's leftover.
            FileManager.default.createFile(atPath: path(TestRun.keptMarker), contents: nil)
            print("LIFEBOAT_KEEP_TEST_DIRS: kept \(url.path)")
        }
        remove()
    }

    /// A path inside the directory.
    package func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Removes the directory now (kept with `LIFEBOAT_KEEP_TEST_DIRS=1`). Not needed: it goes when the test lets go of it.
    package func remove() {
        if !TestRun.keepsDirectories { try? FileManager.default.removeItem(at: url) }
    }
}

/// Runs `body` with a directory of its own, removed when `body` returns or throws (kept, and its path printed, with
/// `LIFEBOAT_KEEP_TEST_DIRS=1`).
package func withTemporaryDirectory<Value>(_ name: String = "test", _ body: (TemporaryDirectory) async throws -> Value) async throws
    -> Value
{
    let directory = try TemporaryDirectory(name)
    defer { withExtendedLifetime(directory) {} }
    return try await body(directory)
}

/// This test process: the prefix of its temporary directories and the check, when it exits, that nothing it started
/// outlived it.
package enum TestRun {
    /// `lifeboat-test-<pid>-<random>-`: one run's directories, never another's running beside it.
    package static let prefix = "lifeboat-test-\(getpid())-\(UUID().uuidString.prefix(6).lowercased())-"

    /// `LIFEBOAT_KEEP_TEST_DIRS=1`: keep every test directory (and print where it is).
    package static let keepsDirectories = ProcessInfo.processInfo.environment["LIFEBOAT_KEEP_TEST_DIRS"] == "1"

    /// The file that marks a directory kept on purpose.
    static let keptMarker = ".lifeboat-kept"

    /// Directories of earlier runs whose process is gone (a run killed before it could clean up: a timeout, Ctrl-C, a
    /// crash): removed when a run starts. A directory kept with `LIFEBOAT_KEEP_TEST_DIRS=1`, or whose pid is alive (a run
    /// beside this one, or a reused pid), stays.
    package static func removeKilledRunsDirectories() {
        let root = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] where name.hasPrefix("lifeboat-test-") {
            let fields = name.split(separator: "-")
            guard !name.hasPrefix(prefix), fields.count > 3, let pid = Int32(fields[2]), pid > 0 else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let directory = root.appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: directory.appendingPathComponent(keptMarker).path) else { continue }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Directories of this run still on disk (ought to be none once every test has ended).
    package static func leftoverDirectories() -> [String] {
        let root = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { root.appendingPathComponent($0).path }
    }

    /// Live child processes of this process (pid and command name), from `/proc`: none ought to be left once every test has
    /// ended. Zombies (ended, not yet reaped) are not counted.
    package static func liveChildren() -> [(pid: Int32, command: String)] {
        let me = getpid()
        var children: [(pid: Int32, command: String)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = ProcessStat(pid: pid), stat.parent == me, stat.state != "Z" else { continue }
            children.append((pid, stat.command))
        }
        return children.sorted { $0.pid < $1.pid }
    }

    /// Once per run: removes killed runs' directories (``removeKilledRunsDirectories()``) and registers the end-of-run
    /// check: at exit, a directory of this run still on disk or a child process still
    /// alive is printed and the process exits with status 1, so `swift test` fails.
    static func watch() { _ = registered }

    private static let registered: Bool = {
        removeKilledRunsDirectories()
        atexit {
            var problems: [String] = []
            if !TestRun.keepsDirectories {
                problems += TestRun.leftoverDirectories().map { "test directory left behind: \($0)" }
            }
            problems += TestRun.liveChildren().map { "child process still running at the end of the tests: \($0.pid) \($0.command)" }
            guard !problems.isEmpty else { return }
            FileHandle.standardError.write(Data((problems.map { "error: \($0)" }.joined(separator: "\n") + "\n").utf8))
            _exit(1)
        }
        return true
    }()
}

/// The fields of `/proc/<pid>/stat` the checks need.
struct ProcessStat {
    var command: String
    var state: Character
    var parent: Int32
    /// Clock ticks after boot: tells a process from a later one that got the same pid.
    var startTime: UInt64

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        command = String(text[text.index(after: open)..<close])
        // After ") ": state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime, stime,
        // cutime, cstime, priority, nice, num_threads, itrealvalue, starttime (proc(5)).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let start = UInt64(fields[19]) else {
            return nil
        }
        self.state = state
        self.parent = parent
        startTime = start
    }
}
