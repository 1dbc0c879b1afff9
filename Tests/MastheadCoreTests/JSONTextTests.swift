import Foundation
import MastheadCore
import Testing

/// JSON text written directly must read back as what was written, whatever the characters.
@Suite struct JSONTextTests {
    @Test func everyKindOfCharacterReadsBackAsItWas() throws {
        let texts = [
            "", "plain words", "a \"quoted\" \\ back\\slash", "line\nbreak\r\ttab", "\u{01}\u{1F} controls",
            "é ü 中文 🗞️", "line\u{2028}and\u{2029}paragraph separators", "\u{2026} ellipsis and \u{2014} dash",
            "<script>alert('x')</script> & more", "ends with a quote\"", "\u{E2}",
        ]
        for forScript in [false, true] {
            let json = JSONText.encode(["items": texts, "n": 3, "ok": true], forScript: forScript)
            let decoded = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(decoded["items"] as? [String] == texts)
            #expect(!json.contains("\u{2028}") && !json.contains("\u{2029}"))
            if forScript { #expect(!json.contains("<") && !json.contains(">") && !json.contains("&")) }
        }
        #expect(JSONText.encode(["a": "x\"y"]) == #"{"a":"x\"y"}"#)
    }
}
