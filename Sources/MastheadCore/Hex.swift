import Foundation

extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each (digests, keys, ids).
    public var hexEncoded: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Sequence<UInt8> {
    /// The bytes as URL-safe base64 without padding (`-` and `_` for `+` and `/`): tokens and
    /// signatures that travel in addresses, cookies and form fields.
    public var base64URLEncoded: String {
        Data(self).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
