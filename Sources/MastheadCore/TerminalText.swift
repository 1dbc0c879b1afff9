/// Text from outside (a source's message, a file's name) made safe to print on a terminal:
/// control characters, which could move the cursor, rewrite earlier lines, change the title or
/// worse, and the bidirectional overrides that can make text read differently from what it holds,
/// are shown as visible escapes (`\x1B`, `\u{202E}`) instead of acting. Line breaks and tabs stay.
public enum TerminalText {
    public static func safe(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09:
                result.unicodeScalars.append(scalar)
            case 0x00...0x1F, 0x7F...0x9F:
                result += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
