import Foundation

/// JSON text from plain values (`[String: Any]`, arrays, strings, numbers, booleans, `NSNull`),
/// keys sorted, written directly: several times faster than `JSONSerialization` on Linux, which
/// bridges every value to an `NSObject` first. With `forScript`, `<`, `>` and `&` are escaped so
/// that no value can end a `<script>` element or open a comment.
public enum JSONText {
    public static func encode(_ value: Any, forScript: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(1024)
        write(value, into: &out, forScript: forScript)
        return out
    }

    private static func write(_ value: Any, into out: inout String, forScript: Bool) {
        switch value {
        case let text as String: string(text, into: &out, forScript: forScript)
        case let text as Substring: string(String(text), into: &out, forScript: forScript)
        case let flag as Bool: out += flag ? "true" : "false"
        case let number as Int: out += String(number)
        case let number as Int64: out += String(number)
        case let number as Int32: out += String(number)
        case let number as Double: out += number.isFinite ? (number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)") : "null"
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                string(key, into: &out, forScript: forScript)
                out += ":"
                write(object[key]!, into: &out, forScript: forScript)
            }
            out += "}"
        case let array as [Any]:
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out, forScript: forScript)
            }
            out += "]"
        // Last: asking whether a Swift dictionary or array `is NSNull` bridges it to Foundation first.
        case is NSNull: out += "null"
        default:
            // An optional or another value: nil as null, anything else as its text.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let wrapped = mirror.children.first?.value { write(wrapped, into: &out, forScript: forScript) } else { out += "null" }
            } else {
                string(String(describing: value), into: &out, forScript: forScript)
            }
        }
    }

    private static func string(_ text: String, into out: inout String, forScript: Bool) {
        out += "\""
        // Runs of bytes that need no escape are copied whole; only the rest is looked at one by one.
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            let escape: String?
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case UInt8(ascii: "\n"): escape = "\\n"
            case UInt8(ascii: "\r"): escape = "\\r"
            case UInt8(ascii: "\t"): escape = "\\t"
            case UInt8(ascii: "<") where forScript: escape = "\\u003c"
            case UInt8(ascii: ">") where forScript: escape = "\\u003e"
            case UInt8(ascii: "&") where forScript: escape = "\\u0026"
            case 0..<0x20: escape = "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            case 0xE2:
                // U+2028 and U+2029 (E2 80 A8, E2 80 A9) end a line in JavaScript.
                let next = utf8.index(after: index)
                let third = next == utf8.endIndex ? next : utf8.index(after: next)
                if next != utf8.endIndex, third != utf8.endIndex, utf8[next] == 0x80, utf8[third] == 0xA8 || utf8[third] == 0xA9 {
                    out += Substring(utf8[runStart..<index])
                    out += utf8[third] == 0xA8 ? "\\u2028" : "\\u2029"
                    index = utf8.index(after: third)
                    runStart = index
                    continue
                }
                escape = nil
            default: escape = nil
            }
            if let escape {
                out += Substring(utf8[runStart..<index])
                out += escape
                index = utf8.index(after: index)
                runStart = index
            } else {
                index = utf8.index(after: index)
            }
        }
        out += Substring(utf8[runStart..<utf8.endIndex])
        out += "\""
    }
}
