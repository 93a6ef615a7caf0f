import ArgumentParser
import Foundation
import LifeboatEngine

/// `lifeboat stage-kinds`: prints the stage-kind reference generated from the stage specs.
struct StageKindsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage-kinds",
        abstract: "Print the stage-kind reference (Markdown): each kind, what it restores, its options and the Graph permissions it needs.",
        discussion: "Docs/stage-kinds.md is this output: \(StageKindReference.regenerateCommand)")

    func run() throws {
        FileHandle.standardOutput.write(Data(StageKindReference.markdown().utf8))
    }
}
