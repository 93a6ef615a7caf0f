import Foundation
import LifeboatJSON

/// The `$filter` language the fake tenant understands, as Graph's directory APIs do:
/// `eq`, `ne`, `gt/ge/lt/le`, `in (...)`, `startsWith`, `endsWith`, `any()` on collections, `and`, `or`, `not`, parentheses.
///
/// `ne`, `not` and `endsWith` are advanced queries: Graph refuses them without `ConsistencyLevel: eventual`
/// and `$count=true`, and so does the fake.
struct ODataFilter {
    indirect enum Expression {
        case compare(path: [String], op: String, value: JSONValue)
        case within(path: [String], values: [JSONValue])
        case function(name: String, path: [String], value: JSONValue)
        case any(path: [String], variable: String, body: Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        case not(Expression)
    }

    let expression: Expression
    /// True when the filter uses an advanced query capability.
    private(set) var isAdvanced = false

    init(_ text: String) throws(GraphFailure) {
        var parser = Parser(tokens: try Self.tokenize(text), text: text)
        expression = try parser.parseOr()
        guard parser.position == parser.tokens.count else { throw parser.failure("unexpected \(parser.tokens[parser.position])") }
        isAdvanced = parser.advanced
    }

    /// The single `property eq 'value'` this filter is, if it is one (for index look-ups).
    var equality: (property: String, value: String)? {
        if case .compare(let path, "eq", .string(let value)) = expression, path.count == 1 { return (path[0], value) }
        return nil
    }

    func matches(_ object: JSONObject) -> Bool { Self.evaluate(expression, .object(object), variables: [:]) }

    // MARK: - Evaluation

    private static func resolve(_ path: [String], in value: JSONValue, variables: [String: JSONValue]) -> JSONValue? {
        var current: JSONValue? = value
        var components = path[...]
        if let first = components.first, let bound = variables[first] {
            current = bound
            components = components.dropFirst()
        }
        for component in components { current = current?[component] }
        return current
    }

    private static func evaluate(_ expression: Expression, _ value: JSONValue, variables: [String: JSONValue]) -> Bool {
        switch expression {
        case .compare(let path, let op, let literal):
            let actual = resolve(path, in: value, variables: variables) ?? .null
            return compare(actual, op, literal)
        case .within(let path, let values):
            let actual = resolve(path, in: value, variables: variables) ?? .null
            return values.contains { compare(actual, "eq", $0) }
        case .function(let name, let path, let literal):
            guard let actual = resolve(path, in: value, variables: variables)?.stringValue, let prefix = literal.stringValue else {
                return false
            }
            return name == "startswith"
                ? actual.lowercased().hasPrefix(prefix.lowercased()) : actual.lowercased().hasSuffix(prefix.lowercased())
        case .any(let path, let variable, let body):
            let elements = resolve(path, in: value, variables: variables)?.arrayValue ?? []
            return elements.contains { element in
                var bound = variables
                bound[variable] = element
                return evaluate(body, value, variables: bound)
            }
        case .and(let left, let right): return evaluate(left, value, variables: variables) && evaluate(right, value, variables: variables)
        case .or(let left, let right): return evaluate(left, value, variables: variables) || evaluate(right, value, variables: variables)
        case .not(let inner): return !evaluate(inner, value, variables: variables)
        }
    }

    private static func compare(_ actual: JSONValue, _ op: String, _ literal: JSONValue) -> Bool {
        let ordering: ComparisonResult?
        switch (actual, literal) {
        case (.string(let a), .string(let b)): ordering = a.caseInsensitiveCompare(b)
        case (.number(let a), .number(let b)): ordering = a < b ? .orderedAscending : (a > b ? .orderedDescending : .orderedSame)
        case (.bool(let a), .bool(let b)): ordering = a == b ? .orderedSame : .orderedAscending
        case (.null, .null): ordering = .orderedSame
        default: ordering = nil
        }
        switch op {
        case "eq": return ordering == .orderedSame
        case "ne": return ordering != .orderedSame
        case "gt": return ordering == .orderedDescending
        case "ge": return ordering == .orderedDescending || ordering == .orderedSame
        case "lt": return ordering == .orderedAscending
        case "le": return ordering == .orderedAscending || ordering == .orderedSame
        default: return false
        }
    }

    // MARK: - Parsing

    enum Token: Equatable, CustomStringConvertible {
        case word(String)
        case string(String)
        case open, close, comma, colon
        var description: String {
            switch self {
            case .word(let w): return w
            case .string(let s): return "'\(s)'"
            case .open: return "("
            case .close: return ")"
            case .comma: return ","
            case .colon: return ":"
            }
        }
    }

    static func tokenize(_ text: String) throws(GraphFailure) -> [Token] {
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case " ", "\t": index = text.index(after: index)
            case "(": tokens.append(.open); index = text.index(after: index)
            case ")": tokens.append(.close); index = text.index(after: index)
            case ",": tokens.append(.comma); index = text.index(after: index)
            case ":": tokens.append(.colon); index = text.index(after: index)
            case "'":
                var value = ""
                var cursor = text.index(after: index)
                var closed = false
                while cursor < text.endIndex {
                    if text[cursor] == "'" {
                        let next = text.index(after: cursor)
                        if next < text.endIndex, text[next] == "'" {
                            value.append("'")
                            cursor = text.index(after: next)
                            continue
                        }
                        closed = true
                        cursor = next
                        break
                    }
                    value.append(text[cursor])
                    cursor = text.index(after: cursor)
                }
                guard closed else {
                    throw GraphFailure.badRequest("Invalid filter clause: unterminated string literal.", code: "BadRequest")
                }
                tokens.append(.string(value))
                index = cursor
            default:
                var word = ""
                while index < text.endIndex, !" \t(),:'".contains(text[index]) {
                    word.append(text[index])
                    index = text.index(after: index)
                }
                tokens.append(.word(word))
            }
        }
        return tokens
    }

    struct Parser {
        let tokens: [Token]
        let text: String
        var position = 0
        var advanced = false

        func failure(_ detail: String) -> GraphFailure {
            GraphFailure.badRequest("Invalid filter clause: \(detail) in '\(text)'.", code: "BadRequest")
        }

        func peekWord() -> String? {
            guard position < tokens.count, case .word(let word) = tokens[position] else { return nil }
            return word.lowercased()
        }

        mutating func expect(_ token: Token) throws(GraphFailure) {
            guard position < tokens.count, tokens[position] == token else { throw failure("expected \(token)") }
            position += 1
        }

        mutating func parseOr() throws(GraphFailure) -> Expression {
            var left = try parseAnd()
            while peekWord() == "or" {
                position += 1
                left = .or(left, try parseAnd())
            }
            return left
        }

        mutating func parseAnd() throws(GraphFailure) -> Expression {
            var left = try parseUnary()
            while peekWord() == "and" {
                position += 1
                left = .and(left, try parseUnary())
            }
            return left
        }

        mutating func parseUnary() throws(GraphFailure) -> Expression {
            if peekWord() == "not" {
                position += 1
                advanced = true
                return .not(try parseUnary())
            }
            if position < tokens.count, tokens[position] == .open {
                position += 1
                let inner = try parseOr()
                try expect(.close)
                return inner
            }
            return try parsePrimary()
        }

        mutating func literal() throws(GraphFailure) -> JSONValue {
            guard position < tokens.count else { throw failure("missing value") }
            defer { position += 1 }
            switch tokens[position] {
            case .string(let value): return .string(value)
            case .word(let word):
                switch word.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    if let number = Double(word) { return .number(number) }
                    return .string(word)  // GUIDs and dates are unquoted in OData
                }
            default: throw failure("unexpected \(tokens[position])")
            }
        }

        mutating func parsePrimary() throws(GraphFailure) -> Expression {
            guard position < tokens.count, case .word(let word) = tokens[position] else { throw failure("expected a property") }
            position += 1
            let lower = word.lowercased()
            if lower == "startswith" || lower == "endswith" {
                if lower == "endswith" { advanced = true }
                try expect(.open)
                guard position < tokens.count, case .word(let property) = tokens[position] else { throw failure("expected a property") }
                position += 1
                try expect(.comma)
                let value = try literal()
                try expect(.close)
                return .function(name: lower, path: property.split(separator: "/").map(String.init), value: value)
            }
            var path = word.split(separator: "/").map(String.init)
            if let last = path.last?.lowercased(), last == "any" || last == "all" {
                path.removeLast()
                try expect(.open)
                guard position < tokens.count, case .word(let variable) = tokens[position] else {
                    throw failure("expected a lambda variable")
                }
                position += 1
                try expect(.colon)
                let body = try parseOr()
                try expect(.close)
                return .any(path: path, variable: variable, body: body)
            }
            guard let op = peekWord() else { throw failure("expected an operator after \(word)") }
            position += 1
            if op == "in" {
                try expect(.open)
                var values: [JSONValue] = [try literal()]
                while position < tokens.count, tokens[position] == .comma {
                    position += 1
                    values.append(try literal())
                }
                try expect(.close)
                return .within(path: path, values: values)
            }
            guard ["eq", "ne", "gt", "ge", "lt", "le"].contains(op) else { throw failure("unsupported operator \(op)") }
            if op == "ne" { advanced = true }
            return .compare(path: path, op: op, value: try literal())
        }
    }
}
