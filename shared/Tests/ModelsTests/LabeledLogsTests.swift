// Reading labeled log files: JSONL and Loghub-style lines, and bad lines reported by number.

import Models
import Testing

@Suite struct LabeledLogsTests {
    func parse(_ text: String, _ format: LogLineFormat) throws -> [LabeledLog] {
        try LabeledLogs.parse(Array(text.utf8), name: "logs", format: format)
    }

    @Test func jsonlLinesWithOptionalLevelAndBlankLines() throws {
        let text = """
            {"message": "disk failed", "label": "critical", "level": "ERROR"}

            {"message": "user logged in", "label": "not_critical", "extra": [1, 2]}
            {"message": "null level", "label": "not_critical", "level": null}\r
            """
        #expect(
            try parse(text, .jsonl) == [
                LabeledLog(message: "disk failed", level: "ERROR", critical: true),
                LabeledLog(message: "user logged in", critical: false),
                LabeledLog(message: "null level", critical: false),
            ])
    }

    @Test func badJSONLLinesAreReportedByNumber() {
        let text = """
            {"message": "ok", "label": "critical"}
            {"message": "broken", "label":
            {"message": "ok", "label": "not_critical"}
            {"message": "x", "label": "high"}
            {"label": "critical"}
            {"message": 42, "label": "critical"}
            ["not", "an", "object"]
            """
        let message = modelErrorMessage { try parse(text, .jsonl) } ?? ""
        #expect(message.hasPrefix("5 bad lines:"))
        #expect(message.contains("logs line 2: not valid JSON"))
        #expect(message.contains("logs line 4: label is 'high', expected \"critical\" or \"not_critical\""))
        #expect(message.contains("logs line 5: missing field 'message'"))
        #expect(message.contains("logs line 6: field 'message' should be a string, found a number"))
        #expect(message.contains("logs line 7: expected a JSON object, found an array"))
        #expect(!message.contains("line 1:") && !message.contains("line 3:"))
    }

    @Test func manyBadLinesAreCountedNotAllListed() {
        let text = Array(repeating: "nonsense", count: 25).joined(separator: "\n")
        let message = modelErrorMessage { try parse(text, .jsonl) } ?? ""
        #expect(message.hasPrefix("25 bad lines:"))
        #expect(message.contains("logs line 10:") && !message.contains("logs line 11:"))
        #expect(message.hasSuffix("... and 15 more bad lines"))
    }

    @Test func loghubLabelTokenDecidesAndTheRestIsTheMessage() throws {
        let text =
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected\r\n"
            + "KERNDTLB 1118536327 2005.06.11 R30-M0-N9 RAS KERNEL FATAL data TLB error interrupt\r\n"
        #expect(
            try parse(text, .loghub) == [
                LabeledLog(
                    message:
                        """
                        1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error \
                        corrected
                        """,
                    critical: false),
                LabeledLog(
                    message: "1118536327 2005.06.11 R30-M0-N9 RAS KERNEL FATAL data TLB error interrupt", critical: true
                ),
            ])
    }

    @Test func badLoghubLinesAreReportedByNumber() {
        var bytes = Array("- fine line\nlonely\n".utf8)
        bytes += [UInt8(ascii: "-"), 0x20, 0xFF, 0xFE, 0x0A]
        let message = modelErrorMessage { try LabeledLogs.parse(bytes, name: "bgl.log", format: .loghub) } ?? ""
        #expect(message.contains("bgl.log line 2: expected a label token and a message"))
        #expect(message.contains("bgl.log line 3: not valid UTF-8"))
    }

    @Test func emptyFilesAndRawTrainingAreRefused() {
        #expect(modelErrorMessage { try parse("\n\n", .jsonl) } == "logs has no labeled lines")
        #expect(modelErrorMessage { try parse("a line", .raw) }?.contains("carry no label") == true)
    }

    @Test func unlabeledLinesForClassifying() throws {
        func unlabeled(_ text: String, _ format: LogLineFormat) throws -> (message: String, level: String?) {
            try Array(text.utf8).withUnsafeBufferPointer { try LabeledLogs.unlabeled($0, format: format).get() }
        }
        #expect(try unlabeled("- 1117838570 RAS KERNEL INFO ok", .loghub).message == "1117838570 RAS KERNEL INFO ok")
        #expect(try unlabeled("- 1117838570 RAS", .raw).message == "- 1117838570 RAS")
        let json = try unlabeled(#"{"message": "disk failed", "level": "WARN"}"#, .jsonl)
        #expect(json.message == "disk failed" && json.level == "WARN")
    }
}
