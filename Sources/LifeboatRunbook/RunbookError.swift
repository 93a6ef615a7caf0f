/// A runbook problem found before anything runs: file, line, field, what is wrong and what to do.
public struct RunbookError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// 1-based line in the runbook file (0 when the problem is not tied to a line).
    public var line: Int
    /// The offending field, e.g. `stages[2].after`.
    public var field: String
    public var problem: String
    public var hint: String?

    public init(file: String, line: Int, field: String, problem: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.hint = hint
    }

    public var description: String {
        "\(file):\(line): \(field): \(problem)" + (hint.map { " — \($0)" } ?? "")
    }
}

/// Every problem found in one runbook, so the operator can fix them all at once.
public struct RunbookErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [RunbookError]
    public init(_ errors: [RunbookError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
