/// A JSON object kept as the UTF-8 it was read from, parsed each time it is read.
///
/// A 100,000-user snapshot parsed into dictionaries took about 325 MB of the heap (a user's twenty properties as a
/// `[String: JSONValue]` are about 2.5 KB); kept as bytes it takes the size of its files. The bytes of every object of
/// a file share that file's one buffer (``JSONCollectionReader/bytes``), so an object costs its range and no
/// allocation of its own.
///
/// Reading ``object`` parses the whole object; ``subscript(_:)`` parses only the one property asked for, so a
/// loop that wants one or two properties of every user should use it.
package struct RawJSONObject: Sendable {
    private let buffer: [UInt8]
    private let range: Range<Int>

    /// An object read by a ``JSONCollectionReader``: `range` of `buffer` is one well-formed JSON object.
    package init(buffer: [UInt8], range: Range<Int>) {
        self.buffer = buffer
        self.range = range
    }

    /// An object held as its compact JSON (sorted keys).
    package init(_ object: JSONObject) {
        var writer = CompactJSONWriter(capacity: 256)
        writer.write(.object(object))
        buffer = writer.bytes
        range = 0..<buffer.count
    }

    /// Every property, parsed.
    package var object: JSONObject {
        // The bytes were parsed once already (by the reader or the writer), so this does not fail.
        (try? JSONParser.parse(buffer, range))?.objectValue ?? [:]
    }

    /// Parses the bytes strictly, as ``JSONCoding/decode(_:)`` parses a document (for ranges that were only scanned, see
    /// ``JSONCollectionReader/elementRanges()``); nil when they hold valid JSON that is not an object.
    package func parsed() throws(JSONParseError) -> JSONObject? {
        try JSONParser.parse(buffer, range).objectValue
    }

    /// One top-level property, parsed without building the others; nil when the object has none.
    package subscript(_ name: String) -> JSONValue? {
        JSONParser.property(name, in: buffer, range)
    }

    /// The bytes, as they were read (whitespace included) or written.
    package var bytes: ArraySlice<UInt8> { buffer[range] }
}

extension RawJSONObject: Hashable {
    /// Equal when the properties are equal, however the bytes spell them (key order, spacing, escapes).
    package static func == (lhs: RawJSONObject, rhs: RawJSONObject) -> Bool {
        lhs.bytes.elementsEqual(rhs.bytes) || lhs.object == rhs.object
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(object)
    }
}
