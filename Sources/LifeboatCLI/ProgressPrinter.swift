import Foundation
import LifeboatEngine
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Prints run progress: one live line per stage on a terminal, plain lines otherwise.
final class ProgressPrinter: RunObserver, Sendable {
    private let interactive: Bool
    private let lastWidth = Mutex(0)

    init() {
        interactive = isatty(STDERR_FILENO) == 1
    }

    func report(_ progress: RunProgress) {
        switch progress {
        case .stageStarted(let id, let title, let total):
            line("▶ \(id): \(title) — \(total) operations", final: !interactive)
        case .operations(let id, let finished, let total):
            if interactive { line("  \(id): \(finished)/\(total) \(bar(finished, total))", final: false) }
        case .stageFinished(let id, let status, let counts):
            let summary = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(
                separator: ", ")
            line("\(status == .done ? "✔" : "✘") \(id): \(status.rawValue)\(summary.isEmpty ? "" : " (\(summary))")", final: true)
        case .gateWaiting(let id, let instructions):
            line(
                "⏸ gate \(id) is waiting for approval:\n\(instructions.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))",
                final: true)
        case .gateApproved(let id, let by):
            line("✔ gate \(id) approved by \(by)", final: true)
        case .warning(let text):
            line("! \(text)", final: true)
        }
    }

    private func bar(_ done: Int, _ total: Int) -> String {
        guard total > 0 else { return "" }
        let width = 24
        let filled = min(width, done * width / total)
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    private func line(_ text: String, final: Bool) {
        lastWidth.withLock { width in
            var output = ""
            if interactive {
                output += "\r" + String(repeating: " ", count: width) + "\r"
            }
            output += text
            if final || !interactive {
                output += "\n"
                width = 0
            } else {
                width = text.count
            }
            FileHandle.standardError.write(Data(output.utf8))
        }
    }
}
