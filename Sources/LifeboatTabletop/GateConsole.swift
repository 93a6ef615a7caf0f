import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatRunbook

/// Reads the operator's lines; a terminal in an exercise, a pipe in tests.
package protocol PromptInput: Sendable {
    /// The next line without its newline, or nil at the end of input.
    func readLine() async -> String?
}

/// Standard input, read on a thread of its own so that waiting for a person never blocks the cooperative pool.
package struct StandardInput: PromptInput {
    package init() {}

    package func readLine() async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Swift.readLine(strippingNewline: true)) }
        }
    }
}

/// The facilitated exercise's gate prompt (`tabletop --pause-at-gates` on a terminal): shows the gate's instructions,
/// reads the operator's decision — approve, inject a fault, skip the clock ahead, or pause — advances the simulated
/// clock, and records every decision in the event log with who made it and when (wall and simulated time).
package struct GateConsole: GateDecider {
    package let session: TabletopSession
    package let operatorName: String
    package let input: any PromptInput
    package let output: @Sendable (String) -> Void

    package init(
        session: TabletopSession, operatorName: String, input: any PromptInput = StandardInput(),
        output: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
    ) {
        self.session = session
        self.operatorName = operatorName
        self.input = input
        self.output = output
    }

    static let menu = """
          a [NAME]       approve (as NAME; default the operator) — the gate's planned time passes
          s DURATION     skip the clock ahead (people are still working), e.g. `s 45m`
          f              inject a fault
          p              pause here (exit 3; `lifeboat approve` decides later)
        """

    package func decide(_ stage: Runbook.Stage, instructions: String) async throws -> GateOutcome {
        let planned = stage.estimatedDuration ?? 0
        output("")
        output("⏸ Gate \(stage.id): \(stage.title) — simulated time \(DurationText.format(session.now))")
        for line in instructions.split(separator: "\n") { output("    \(line)") }
        output("  Planned time for people: \(DurationText.format(planned)).")
        while true {
            output(Self.menu)
            prompt("> ")
            guard let line = await input.readLine() else {
                try await record(stage, "end of input: the run pauses at the gate")
                return .pause
            }
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1).map(String.init)
            let argument = words.count > 1 ? words[1].trimmingCharacters(in: .whitespaces) : nil
            switch words.first?.lowercased() ?? "" {
            case "a", "approve":
                let person = argument.flatMap { $0.isEmpty ? nil : $0 } ?? operatorName
                try await WaitReason.$current.withValue(.people) { try await session.clock.sleep(seconds: planned) }
                try await record(stage, "\(person) approved the gate after \(DurationText.format(planned)) of people's work", by: person)
                return .approve(by: person, note: "approved at the exercise prompt (entered by \(operatorName))")
            case "s", "skip":
                guard let argument, let seconds = DurationText.seconds(argument), seconds > 0 else {
                    output("  Give a duration, e.g. `s 45m` or `s 2h`.")
                    continue
                }
                session.clock.advance(by: seconds, reason: .people)
                try await record(stage, "\(operatorName) skipped the clock ahead by \(DurationText.format(seconds))")
                output("  Simulated time is now \(DurationText.format(session.now)).")
            case "f", "fault":
                output(
                    """
                      1  throttling storm: Graph's quotas at 25% for 30 minutes
                      2  the operator's machine dies during the next stage (then `lifeboat resume`)
                    """)
                prompt("  fault> ")
                let choice = await input.readLine()?.trimmingCharacters(in: .whitespaces)
                let fault: TabletopSession.PromptFault
                switch choice {
                case "1": fault = .throttlingStorm(share: 0.25, duration: 1_800)
                case "2": fault = .killDuringNextStage
                default:
                    output("  No fault injected.")
                    continue
                }
                let message = try await session.injectFromPrompt(fault, by: operatorName, gate: stage.id)
                output("  Injected: \(message).")
            case "p", "pause":
                try await record(stage, "\(operatorName) paused the exercise at the gate")
                return .pause
            default:
                output("  Not understood: \(line)")
            }
        }
    }

    /// One decision in the event log: who, what, at which simulated time (the log adds the wall time).
    private func record(_ stage: Runbook.Stage, _ message: String, by person: String? = nil) async throws {
        try await session.store.append(
            .gateDecision(
                stageID: stage.id,
                text: message + (person.map { $0 == operatorName ? "" : " (entered by \(operatorName))" } ?? "")),
            simulated: session.now)
    }

    /// A prompt without a newline, so the answer follows it on the same line.
    private func prompt(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
