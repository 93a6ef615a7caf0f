/// Input an importer cannot use: the file, the line (a CSV row's first line) and the column or
/// field, what is wrong, and what to do about it.
package struct ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input file, relative to the import directory when it is inside it.
    package var file: String
    /// The 1-based line: the first line of a CSV row, or the line of a JSON syntax error.
    package var line: Int?
    /// The CSV column or the JSON field (a path such as `conditions.users`).
    package var column: String?
    package var problem: String
    package var hint: String?

    package init(file: String, line: Int? = nil, column: String? = nil, problem: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        self.hint = hint
    }

    package var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let column { text += ": \(column)" }
        text += ": \(problem)"
        if let hint { text += " — \(hint)" }
        return text
    }
}
