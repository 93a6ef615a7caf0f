import Foundation

/// A JSON document that could not be parsed, with the line and column of the problem.
package struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    package var line: Int
    package var column: Int
    package var problem: String
    package var description: String { "line \(line), column \(column): \(problem)" }
}

/// Parses JSON bytes straight into ``JSONValue``.
///
/// Snapshots of large tenants are hundreds of megabytes of JSON; decoding them through `Decodable`
/// (which tries each JSON type in turn and throws on every miss) took most of a 100,000-user load.
/// This single pass over the bytes does the same work without the failed attempts.
struct JSONParser {
    fileprivate let bytes: [UInt8]
    fileprivate var index: Int
    /// One past the last byte parsed: the end of the document, or of the one value a ``RawJSONObject`` keeps.
    fileprivate let end: Int

    init(_ data: Data) {
        bytes = [UInt8](data)
        index = 0
        end = bytes.count
    }

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        index = range.lowerBound
        end = range.upperBound
    }

    static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(data)
        return try parser.parseDocument()
    }

    static func parse(_ bytes: [UInt8], _ range: Range<Int>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, range: range)
        return try parser.parseDocument()
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == end else { throw failure("unexpected data after the document") }
        return value
    }

    fileprivate func failure(_ problem: String) -> JSONParseError {
        var line = 1, column = 1
        for byte in bytes[..<min(index, end)] {
            if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return JSONParseError(
            line: line, column: column, problem: index >= end ? "\(problem) (the document ends early: truncated?)" : problem)
    }

    fileprivate mutating func skipWhitespace() {
        while index < end, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    fileprivate mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < 512 else { throw failure("nesting deeper than 512 levels") }
        guard index < end else { throw failure("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func literal(_ word: String) throws(JSONParseError) {
        let expected = Array(word.utf8)
        guard index + expected.count <= end, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw failure("expected \(word)")
        }
        index += expected.count
    }

    fileprivate mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        index += 1
        var object: JSONObject = [:]
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") { index += 1; return object }
        while true {
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a property name") }
            let keyStart = index
            let key = try parseString()
            if object[key] != nil {
                index = keyStart
                throw failure("duplicate property \"\(key)\" (a document with two values for one name is ambiguous)")
            }
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':' after \"\(key)\"") }
            index += 1
            skipWhitespace()
            object[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard index < end else { throw failure("expected ',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return object }
            throw failure("expected ',' or '}'")
        }
    }

    fileprivate mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        index += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "]") { index += 1; return array }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < end else { throw failure("expected ',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return array }
            throw failure("expected ',' or ']'")
        }
    }

    fileprivate mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        var nonASCII = false
        while index < end, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { throw failure("control character in a string") }
            if bytes[index] >= 0x80 { nonASCII = true }
            index += 1
        }
        guard index < end else { throw failure("unterminated string") }
        if bytes[index] == UInt8(ascii: "\"") {
            defer { index += 1 }
            guard nonASCII else { return String(decoding: bytes[start..<index], as: UTF8.self) }
            // Invalid UTF-8 is refused, not silently replaced with U+FFFD.
            guard let text = String(validating: bytes[start..<index], as: UTF8.self) else {
                index = start
                throw failure("invalid UTF-8 in a string")
            }
            return text
        }
        var scalars = [UInt8](bytes[start..<index])
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: scalars, as: UTF8.self) else {
                    index = start
                    throw failure("invalid UTF-8 in a string")
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < end else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 1 < end, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw failure("invalid escape \\\(Character(Unicode.Scalar(escape)))")
                }
                continue
            }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            scalars.append(byte)
            index += 1
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= end else { throw failure("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        while index < end {
            let byte = bytes[index]
            guard
                (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            else { break }
            index += 1
        }
        guard index > start, let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            index = start
            throw failure("expected a value")
        }
        return number
    }
}

extension JSONParser {
    /// Moves past one value known to be well-formed (a ``RawJSONObject``'s bytes were parsed when they were read).
    fileprivate mutating func skipValue() {
        guard index < end else { return }
        switch bytes[index] {
        case UInt8(ascii: "\""): skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var nesting = 0
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: "\""): skipString(); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): nesting += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    nesting -= 1
                    if nesting == 0 { index += 1; return }
                default: break
                }
                index += 1
            }
        default:
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return
                default: index += 1
                }
            }
        }
    }

    /// From just inside an array: each element's range, up to and past the closing `]`; nil at anything but elements
    /// separated by commas with balanced brackets (what is inside an element is left to the parse of its range).
    fileprivate mutating func elementRanges() -> [Range<Int>]? {
        var ranges: [Range<Int>] = []
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return ranges
        }
        while index < end {
            let start = index
            var nesting = 0
            scan: while index < end {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    skipString()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): nesting += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if nesting == 0 { break scan }
                    nesting -= 1
                case UInt8(ascii: ","): if nesting == 0 { break scan }
                default: break
                }
                index += 1
            }
            var last = index
            while last > start, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x0A || bytes[last - 1] == 0x0D || bytes[last - 1] == 0x09 {
                last -= 1
            }
            guard last > start, index < end else { return nil }
            ranges.append(start..<last)
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { return nil }
            index += 1
            return ranges
        }
        return nil
    }

    private mutating func skipString() {
        index += 1
        while index < end {
            switch bytes[index] {
            case UInt8(ascii: "\""): index += 1; return
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
    }

    /// The value of one top-level property of the well-formed object in `range`, parsing only that value.
    static func property(_ name: String, in bytes: [UInt8], _ range: Range<Int>) -> JSONValue? {
        var parser = JSONParser(bytes: bytes, range: range)
        let wanted = Array(name.utf8)
        parser.skipWhitespace()
        guard parser.index < parser.end, bytes[parser.index] == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        while true {
            parser.skipWhitespace()
            guard parser.index < parser.end, bytes[parser.index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = parser.index + 1
            parser.skipString()
            let keyEnd = parser.index - 1
            let matches: Bool
            if bytes[keyStart..<keyEnd].contains(UInt8(ascii: "\\")) {
                var keyParser = JSONParser(bytes: bytes, range: (keyStart - 1)..<parser.index)
                matches = (try? keyParser.parseString()) == name
            } else {
                matches = bytes[keyStart..<keyEnd].elementsEqual(wanted)
            }
            parser.skipWhitespace()
            parser.index += 1  // ':'
            parser.skipWhitespace()
            if matches { return try? parser.parseValue(depth: 1) }
            parser.skipValue()
            parser.skipWhitespace()
            guard parser.index < parser.end, bytes[parser.index] == UInt8(ascii: ",") else { return nil }
            parser.index += 1
        }
    }
}

/// Why a collection file could not be read: its JSON is malformed, or it is not a collection.
package enum JSONCollectionError: Error, Sendable, Equatable {
    case syntax(JSONParseError)
    /// The document is valid JSON but neither an array, a Graph list response nor one object with an `id`.
    case notACollection
}

/// Reads a collection file one element at a time, each with the bytes it was read from, so a caller can keep the
/// bytes (see ``RawJSONObject``) instead of a parsed tree of every element at once.
///
/// A collection is a JSON array, a Graph list response `{"value": [...]}` (its other properties, such as
/// `@odata.context`, are checked and dropped), or one object with an `id` (an organization file), which is its only
/// element. Every byte is checked as ``JSONCoding/decode(_:)`` checks it.
package struct JSONCollectionReader {
    private var parser: JSONParser
    private enum Position {
        case start
        /// Inside the array of elements; `wrapper` holds the list response's properties read so far.
        case elements(first: Bool, wrapper: JSONObject?)
        case end
    }
    private var position = Position.start

    package init(_ data: Data) {
        parser = JSONParser(data)
    }

    /// The whole file's bytes, shared with every ``RawJSONObject`` made from an element's range.
    package var bytes: [UInt8] { parser.bytes }

    /// The next element and the range of its bytes; nil after the last one.
    package mutating func next() throws(JSONCollectionError) -> (value: JSONValue, range: Range<Int>)? {
        do {
            return try advance()
        } catch let error as JSONParseError {
            throw .syntax(error)
        } catch {
            throw .notACollection
        }
    }

    private struct NotACollection: Error {}

    private mutating func advance() throws -> (value: JSONValue, range: Range<Int>)? {
        switch position {
        case .end:
            return nil
        case .start:
            parser.skipWhitespace()
            guard parser.index < parser.end else { throw parser.failure("expected a value") }
            let start = parser.index
            switch parser.bytes[parser.index] {
            case UInt8(ascii: "["):
                parser.index += 1
                position = .elements(first: true, wrapper: nil)
                return try advance()
            case UInt8(ascii: "{"):
                if let wrapper = try readWrapper(until: "value") {
                    position = .elements(first: true, wrapper: wrapper)
                    return try advance()
                }
                // One object: it is the only element.
                let range = start..<parser.index
                let object = try JSONParser.parse(parser.bytes, range)
                try finishDocument()
                guard object["id"] != nil else { throw NotACollection() }
                return (object, range)
            default:
                _ = try parser.parseValue(depth: 0)
                try finishDocument()
                throw NotACollection()
            }
        case .elements(let first, let wrapper):
            parser.skipWhitespace()
            guard parser.index < parser.end else { throw parser.failure(first ? "expected a value" : "expected ',' or ']'") }
            if parser.bytes[parser.index] == UInt8(ascii: "]") {
                parser.index += 1
                if var wrapper { try readRest(of: &wrapper) }
                try finishDocument()
                return nil
            }
            if !first {
                guard parser.bytes[parser.index] == UInt8(ascii: ",") else { throw parser.failure("expected ',' or ']'") }
                parser.index += 1
                parser.skipWhitespace()
            }
            let start = parser.index
            let value = try parser.parseValue(depth: 2)
            position = .elements(first: false, wrapper: wrapper)
            return (value, start..<parser.index)
        }
    }

    /// The byte ranges of every element of an array or list response, found by a scan of the structure alone (strings
    /// skipped, brackets counted), so that parts of a large file can be parsed side by side: the caller parses each
    /// range strictly. Nil when the document is not plainly such a collection (one object, or anything malformed):
    /// ``next()`` then reads it, and reports what is wrong. Leaves this reader where it was.
    package func elementRanges() -> [Range<Int>]? {
        var scan = self
        guard case .start = scan.position else { return nil }
        scan.parser.skipWhitespace()
        guard scan.parser.index < scan.parser.end else { return nil }
        var wrapper: JSONObject?
        switch scan.parser.bytes[scan.parser.index] {
        case UInt8(ascii: "["):
            scan.parser.index += 1
        case UInt8(ascii: "{"):
            guard let read = try? scan.readWrapper(until: "value") else { return nil }
            wrapper = read
        default:
            return nil
        }
        guard let ranges = scan.parser.elementRanges() else { return nil }
        do {
            if var wrapper { try scan.readRest(of: &wrapper) }
            try scan.finishDocument()
        } catch {
            return nil
        }
        return ranges
    }

    /// Reads an object's properties up to a property `name` whose value is an array, leaving the parser inside that
    /// array and returning what was read; nil (the parser past the object) when the object has no such property.
    private mutating func readWrapper(until name: String) throws -> JSONObject? {
        parser.index += 1
        var object: JSONObject = [:]
        parser.skipWhitespace()
        if parser.index < parser.end, parser.bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
            return nil
        }
        while true {
            let key = try readKey(into: object)
            if key == name, parser.index < parser.end, parser.bytes[parser.index] == UInt8(ascii: "[") {
                parser.index += 1
                object[key] = .null
                return object
            }
            object[key] = try parser.parseValue(depth: 1)
            if try endOfObject() { return nil }
        }
    }

    /// Reads the list response's properties after its array of elements.
    private mutating func readRest(of object: inout JSONObject) throws {
        if try endOfObject() { return }
        while true {
            let key = try readKey(into: object)
            object[key] = try parser.parseValue(depth: 1)
            if try endOfObject() { return }
        }
    }

    private mutating func readKey(into object: JSONObject) throws -> String {
        parser.skipWhitespace()
        guard parser.index < parser.end, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
            throw parser.failure("expected a property name")
        }
        let keyStart = parser.index
        let key = try parser.parseString()
        if object[key] != nil {
            parser.index = keyStart
            throw parser.failure("duplicate property \"\(key)\" (a document with two values for one name is ambiguous)")
        }
        parser.skipWhitespace()
        guard parser.index < parser.end, parser.bytes[parser.index] == UInt8(ascii: ":") else {
            throw parser.failure("expected ':' after \"\(key)\"")
        }
        parser.index += 1
        parser.skipWhitespace()
        return key
    }

    /// Past a `,` (false) or the closing `}` (true).
    private mutating func endOfObject() throws -> Bool {
        parser.skipWhitespace()
        guard parser.index < parser.end else { throw parser.failure("expected ',' or '}'") }
        if parser.bytes[parser.index] == UInt8(ascii: ",") {
            parser.index += 1
            return false
        }
        if parser.bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
            return true
        }
        throw parser.failure("expected ',' or '}'")
    }

    private mutating func finishDocument() throws {
        parser.skipWhitespace()
        guard parser.index == parser.end else { throw parser.failure("unexpected data after the document") }
        position = .end
    }
}
