import Foundation
import LifeboatEngine
import LifeboatJSON
import Testing

@Suite struct FollowUpWriterTests {
    static let records = [
        FollowUpRecord(
            stageID: "users", operationKey: "user:1", sourceID: "1", displayName: "=HYPERLINK(\"http://x\")",
            followUp: FollowUp(category: "credentials", message: "line one\r\nline two", action: "a, b")),
        FollowUpRecord(
            stageID: "groups", operationKey: nil, sourceID: nil, displayName: nil,
            followUp: FollowUp(category: "mail", message: "-2+3", action: "@sum")),
    ]

    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("one\ntwo", "\"one\ntwo\""),
        ("one\rtwo", "\"one\rtwo\""),
        // CR LF is one Swift Character: it must still be quoted.
        ("one\r\ntwo", "\"one\r\ntwo\""),
        // A quote followed by a combining mark is one Character too: the quote is still doubled.
        ("x\"\u{301}y", "\"x\"\"\u{301}y\""),
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("=A1,B1", "\"'=A1,B1\""),
        ("a=b", "a=b"),
        ("", ""),
    ])
    func csvCellsAreQuotedAndDefused(value: String, expected: String) {
        #expect(CSVField.quoted(value) == expected)
    }

    @Test func csvHasAHeaderAndOneRowPerFollowUp() throws {
        let text = String(decoding: try FollowUpWriter.render(Self.records, format: .csv), as: UTF8.self)
        #expect(
            text == """
                stage,category,operationKey,sourceId,displayName,message,action
                users,credentials,user:1,1,"'=HYPERLINK(""http://x"")","line one\r\nline two","a, b"
                groups,mail,,,,'-2+3,'@sum

                """)
    }

    @Test func jsonKeepsValuesAsTheyAreAndNullsForStageWideFollowUps() throws {
        let rows = try #require(try JSONCoding.decode(try FollowUpWriter.render(Self.records, format: .json)).arrayValue)
        #expect(rows.count == 2)
        #expect(rows[0]["displayName"]?.stringValue == "=HYPERLINK(\"http://x\")")
        #expect(rows[0]["message"]?.stringValue == "line one\r\nline two")
        #expect(rows[1]["operationKey"] == .null)
        #expect(rows[1]["category"]?.stringValue == "mail")
        #expect(Set(rows[0].objectValue?.keys.map { $0 } ?? []) == Set(FollowUpWriter.columns))
    }
}
