import Foundation
import LifeboatJSON
import Testing

@Suite struct JSONParserTests {
    @Test func parsesWhatFoundationWrites() throws {
        let original: JSONValue = [
            "name": "Zoë \"Z\" O'Brien\n\t/ \u{1F680}", "n": 3, "x": .number(1.5), "ok": true, "none": nil,
            "list": [1, "two", ["three": false]], "empty": [:], "nothing": [],
        ]
        let decoded = try JSONCoding.decode(JSONCoding.encodePretty(original))
        #expect(decoded == original)
        #expect(try JSONCoding.decode(Data(#"{"s":"\u00e9\ud83d\ude80\\"}"#.utf8))["s"]?.stringValue == "é🚀\\")
    }

    @Test func truncatedDocumentsSayWhere() throws {
        let error = #expect(throws: JSONParseError.self) {
            try JSONCoding.decode(Data("{\n  \"value\": [\n    {\"id\": \"a\"},\n    {\"id\": ".utf8))
        }
        #expect(error?.line == 4)
        #expect(error?.description.contains("truncated") == true)
        #expect(throws: JSONParseError.self) { try JSONCoding.decode(Data("{\"a\": 1} trailing".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONCoding.decode(Data("[1, 2,]".utf8)) }
    }
}
