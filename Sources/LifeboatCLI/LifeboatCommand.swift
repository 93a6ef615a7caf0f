import ArgumentParser
import Foundation

/// The `lifeboat` command tree.
package struct LifeboatCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "lifeboat",
        abstract: "Rebuild a Microsoft Entra ID tenant from an offline snapshot, step by step, with checkpoints.",
        discussion: """
            Exit codes:
              0  done (or nothing left to do)
              1  the run stopped: a stage has failed operations, or an unexpected error (see the message)
                 (`lifeboat readiness`: a critical finding)
              2  invalid input (runbook, snapshot, state or arguments); nothing was written to the target
              3  paused at a gate: approve it with `lifeboat approve`, then `lifeboat resume`
             64  the command line could not be parsed
            130  stopped by Ctrl-C at an operation boundary: the same command (or `lifeboat resume`) goes on
            """,
        version: LifeboatVersion.current,
        subcommands: [
            Plan.self, ReadinessCommand.self, Tabletop.self, Rebuild.self, Resume.self, Status.self, Approve.self, IDMapCommand.self,
            FollowUpsCommand.self, ReportCommand.self,
            SnapshotCommand.self, FakeTenantCommand.self, StageKindsCommand.self,
        ])

    package init() {}
}

/// The version of this build.
package enum LifeboatVersion {
    package static let current = "0.1.0"
}

/// Lifeboat's exit codes.
enum ExitStatus {
    static let done = ExitCode(0)
    static let failed = ExitCode(1)
    static let invalidInput = ExitCode(2)
    static let pausedAtGate = ExitCode(3)
    static let stopped = ExitCode(130)
}

/// Writes a message to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
