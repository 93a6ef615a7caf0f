/// A runbook problem found before anything runs: file, line, field, what is wrong and what to do.
package struct RunbookError: Error, CustomStringConvertible, Equatable, Sendable {
    package var file: String
    /// 1-based line in the runbook file (0 when the problem is not tied to a line).
    package var line: Int
    /// The offending field, e.g. `stages[2].after`.
    package var field: String
    package var problem: String
    package var hint: String?

    package init(file: String, line: Int, field: String, problem: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.hint = hint
    }

    package var description: String {
        "\(file):\(line): \(field): \(problem)" + (hint.map { " — \($0)" } ?? "")
    }
}

/// Every problem found in one runbook, so the operator can fix them all at once.
package struct RunbookErrors: Error, CustomStringConvertible, Sendable {
    package var errors: [RunbookError]
    package init(_ errors: [RunbookError]) { self.errors = errors }
    package var description: String { errors.map(\.description).joined(separator: "\n") }
}
