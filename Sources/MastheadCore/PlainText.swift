/// Checks a short piece of text a person typed (a name, a headline, an alt text): trimmed, not
/// too long, and free of control characters and the invisible direction overrides that make
/// text display differently from what it holds. Errors name the field.
public enum PlainText {
    /// `text` trimmed, or a ``MastheadError`` naming `field` (and `label`, the field as people call it).
    public static func checked(
        _ text: String, field: String, label: String, maxLength: Int, required: Bool = false, multiline: Bool = false
    ) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if required, trimmed.isEmpty {
            throw MastheadError(.invalidInput, "\(label) is needed", location: .init(field: field))
        }
        guard trimmed.count <= maxLength else {
            throw MastheadError(.invalidInput, "\(label) is longer than \(maxLength) characters", location: .init(field: field))
        }
        if let bad = trimmed.unicodeScalars.first(where: { isForbidden($0, multiline: multiline) }) {
            throw MastheadError(
                .invalidInput, "\(label) holds an invisible control character (U+\(String(bad.value, radix: 16, uppercase: true)))",
                location: .init(field: field))
        }
        return trimmed
    }

    static func isForbidden(_ scalar: Unicode.Scalar, multiline: Bool) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0D, 0x09: return !multiline && scalar.value != 0x09
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
