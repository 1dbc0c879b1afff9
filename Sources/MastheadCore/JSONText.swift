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
        case is NSNull: out += "null"
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
        // Most text needs no escape at all: copied whole. (0xE2 starts U+2028 and U+2029.)
        let plain = text.utf8.allSatisfy { byte in
            byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0xE2
                && !(forScript && (byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&")))
        }
        if plain {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<" where forScript: out += "\\u003c"
            case ">" where forScript: out += "\\u003e"
            case "&" where forScript: out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
