import Foundation

/// Turns names and titles into URL slugs: lowercase ASCII letters, digits and single hyphens.
public enum Slug {
    /// The slug for `text`, e.g. "Climate Talks: What's Next?" → "climate-talks-whats-next".
    /// Letters with accents lose them; other scripts are written in Latin letters first
    /// ("Αθήνα" → "athena", "Москва" → "moskva"); text with no letters or digits gives "item".
    public static func make(from text: String, maxLength: Int = 80) -> String {
        let latin = text.unicodeScalars.contains { !$0.isASCII && $0.properties.isAlphabetic }
            ? text.applyingTransform(.toLatin, reverse: false) ?? text : text
        let folded = latin.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var slug = ""
        var pendingHyphen = false
        for scalar in folded.unicodeScalars {
            if scalar == "'" || scalar == "\u{2019}" { continue }
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                if pendingHyphen, !slug.isEmpty { slug.append("-") }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        slug = slug.lowercased()
        if slug.count > maxLength {
            slug = String(slug.prefix(maxLength))
            while slug.hasSuffix("-") { slug.removeLast() }
        }
        return slug.isEmpty ? "item" : slug
    }

    /// Whether `text` is already a well-formed slug.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 120 && !text.hasPrefix("-") && !text.hasSuffix("-") && !text.contains("--")
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
