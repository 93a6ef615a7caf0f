import ArgumentParser

/// `lifeboat snapshot …`: make, check and inspect snapshots.
package struct SnapshotCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture a tenant into a snapshot, sign and verify it, import other tools' exports, and summarise what it can restore.",
        subcommands: [Capture.self, Verify.self, Keygen.self, Import.self, Summary.self])

    package init() {}
}
