import Foundation
import Synchronization

/// A process a test starts and must see gone before it ends (`lifeboat fake-tenant serve`, a rehearsal it kills,
/// `openssl s_server`): its output goes to files in the test's directory, its end is awaited without blocking a thread.
/// Start it with ``withChildProcess(_:executable:in:environment:_:)``, which ends it when the scope ends.
package final class ChildProcess: Sendable {
    /// The child's pid.
    package let pid: Int32
    package let stdout: URL, stderr: URL
    /// `/proc/<pid>/stat`'s start time, to tell the child from a later process given the same pid.
    private let startTime: UInt64?
    /// The exit status once the child ended, and who waits for it.
    private final class Ending: Sendable {
        let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }
    private let ending = Ending()
    /// Foundation's handle, kept so its termination handler stays installed.
    private let process: Process

    package init(
        _ arguments: [String], executable: URL = Fixtures.lifeboatBinary, in directory: TemporaryDirectory,
        environment: [String: String] = [:]
    ) throws {
        let tag = UUID().uuidString.prefix(8)
        stdout = directory.url.appendingPathComponent("child-out-\(tag)")
        stderr = directory.url.appendingPathComponent("child-err-\(tag)")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory.url
        process.environment = childEnvironment(environment, in: directory)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let ending = self.ending
        process.terminationHandler = { ended in
            let status = ended.terminationStatus
            let waiters = ending.state.withLock { current in
                current.status = status
                defer { current.waiters = [] }
                return current.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try process.run()
        pid = process.processIdentifier
        startTime = ProcessStat(pid: pid)?.startTime
    }

    /// Both output files, standard output first.
    package var output: String {
        ((try? String(contentsOf: stdout, encoding: .utf8)) ?? "") + ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }

    /// Whether the child has not ended yet.
    package var isRunning: Bool { ending.state.withLock { $0.status == nil } }

    /// Waits for the child to end and returns its exit status (or the signal that ended it).
    @discardableResult
    package func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status: Int32? = ending.state.withLock { current in
                if current.status == nil { current.waiters.append(continuation) }
                return current.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// SIGKILL, and waits for the end.
    package func kill() async {
        if isRunning { _ = Foundation.kill(pid, SIGKILL) }
        await wait()
    }

    /// Ends the child: SIGTERM, SIGKILL if it is still there after `grace` (`openssl s_server` ignores SIGTERM), its end
    /// awaited; then throws ``ChildProcessError/stillRunning`` unless the pid is gone from the process table.
    package func end(grace: Duration = .seconds(2)) async throws {
        if isRunning {
            _ = Foundation.kill(pid, SIGTERM)
            // Bounded: the grace period is a limit on waiting, not a measurement.
            let deadline = ContinuousClock.now + grace
            while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
            if isRunning { _ = Foundation.kill(pid, SIGKILL) }
        }
        await wait()
        guard isGone else { throw ChildProcessError.stillRunning(pid: pid) }
    }

    /// Whether the pid no longer names this child (ended and reaped, or reused by a later process).
    package var isGone: Bool {
        guard let stat = ProcessStat(pid: pid) else { return true }
        return stat.startTime != startTime
    }
}

/// A child process that outlived the scope that started it.
package enum ChildProcessError: Error, CustomStringConvertible {
    case stillRunning(pid: Int32)

    package var description: String {
        switch self {
        case .stillRunning(let pid): "child process \(pid) is still in the process table after it was ended and awaited"
        }
    }
}

/// Runs `body` with a child process started from `arguments`; when `body` returns or throws, the child is ended
/// (``ChildProcess/end(grace:)``: terminated, awaited, checked gone) before this returns.
package func withChildProcess<Value>(
    _ arguments: [String], executable: URL = Fixtures.lifeboatBinary, in directory: TemporaryDirectory,
    environment: [String: String] = [:], _ body: (ChildProcess) async throws -> Value
) async throws -> Value {
    let child = try ChildProcess(arguments, executable: executable, in: directory, environment: environment)
    let value: Value
    do {
        value = try await body(child)
    } catch {
        try? await child.end()
        throw error
    }
    try await child.end()
    return value
}

/// The environment of a child a test starts: the test's own, `USER` set, temporary files in the test's directory
/// (`TMPDIR`, removed with it), then `overrides`.
func childEnvironment(_ overrides: [String: String], in directory: TemporaryDirectory) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["USER"] = environment["USER"] ?? "tester"
    environment["TMPDIR"] = directory.url.path
    for (key, value) in overrides { environment[key] = value }
    return environment
}
