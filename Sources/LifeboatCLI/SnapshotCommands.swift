import ArgumentParser

/// `lifeboat snapshot …`: make, check and inspect snapshots.
public struct SnapshotCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture a tenant into a snapshot, sign it and verify it.",
        subcommands: [Capture.self, Verify.self, Keygen.self])

    public init() {}
}
