/// One piece of HTML as a tokenizer sees it.
public enum HTMLToken: Equatable, Sendable {
    case text(String)
    /// A start tag: its lowercased name, its attributes (names lowercased, values decoded) in
    /// order, and whether it closed itself (`<br/>`).
    case start(name: String, attributes: [(name: String, value: String)], selfClosing: Bool)
    case end(name: String)
    case comment(String)
    /// `<!DOCTYPE …>`, `<?…?>`, `<![CDATA[…]]>`: never kept.
    case other

    public static func == (lhs: HTMLToken, rhs: HTMLToken) -> Bool {
        switch (lhs, rhs) {
        case (.text(let a), .text(let b)): return a == b
        case (.start(let a, let x, let s), .start(let b, let y, let t)):
            return a == b && s == t && x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        case (.end(let a), .end(let b)): return a == b
        case (.comment(let a), .comment(let b)): return a == b
        case (.other, .other): return true
        default: return false
        }
    }
}

/// Splits HTML into tokens, forgivingly, as browsers read it: a `<` that starts no tag is text,
/// attribute values may be quoted or not, entities in text and values are decoded.
/// Elements whose content is raw text (`script`, `style`, `textarea`, `title`…) keep it as one
/// text token. Linear in the input; never throws.
public struct HTMLTokenizer: Sequence, IteratorProtocol {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var rawTextEnd: String?

    public init(_ html: String) {
        scalars = Array(html.unicodeScalars)
    }

    static let rawTextElements: Set<String> = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"]

    public mutating func next() -> HTMLToken? {
        guard position < scalars.count else { return nil }
        if let element = rawTextEnd {
            rawTextEnd = nil
            let start = position
            let closing = Array("</\(element)".unicodeScalars)
            while position < scalars.count {
                if scalars[position] == "<", matches(closing, at: position) { break }
                position += 1
            }
            if position > start { return .text(String(String.UnicodeScalarView(scalars[start..<position]))) }
        }
        if scalars[position] == "<", let token = tag() { return token }
        let start = position
        position += 1
        while position < scalars.count, scalars[position] != "<" { position += 1 }
        return .text(HTMLEntities.decode(String(String.UnicodeScalarView(scalars[start..<position]))))
    }

    private func matches(_ pattern: [Unicode.Scalar], at index: Int) -> Bool {
        guard index + pattern.count <= scalars.count else { return false }
        for offset in 0..<pattern.count where Character(scalars[index + offset]).lowercased() != Character(pattern[offset]).lowercased() {
            return false
        }
        return true
    }

    /// A tag at `position` (which holds `<`), or nil (position unchanged) when `<` starts none.
    private mutating func tag() -> HTMLToken? {
        let start = position
        var index = position + 1
        guard index < scalars.count else { return nil }
        if matches(Array("<!--".unicodeScalars), at: position) {
            index = position + 4
            while index < scalars.count, !matches(Array("-->".unicodeScalars), at: index) { index += 1 }
            let text = String(String.UnicodeScalarView(scalars[(position + 4)..<Swift.min(index, scalars.count)]))
            position = Swift.min(scalars.count, index + 3)
            return .comment(text)
        }
        if scalars[index] == "!" || scalars[index] == "?" {
            while index < scalars.count, scalars[index] != ">" { index += 1 }
            position = Swift.min(scalars.count, index + 1)
            return .other
        }
        let closing = scalars[index] == "/"
        if closing { index += 1 }
        guard index < scalars.count, scalars[index].properties.isAlphabetic else { return nil }
        var name = ""
        while index < scalars.count, !Self.isSpace(scalars[index]), scalars[index] != "/", scalars[index] != ">" {
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        name = name.lowercased()
        var attributes: [(name: String, value: String)] = []
        var selfClosing = false
        while index < scalars.count {
            while index < scalars.count, Self.isSpace(scalars[index]) { index += 1 }
            guard index < scalars.count else { break }
            if scalars[index] == ">" { index += 1; break }
            if scalars[index] == "/" {
                selfClosing = index + 1 < scalars.count && scalars[index + 1] == ">"
                index += 1
                continue
            }
            var attribute = ""
            while index < scalars.count, !Self.isSpace(scalars[index]), !["/", ">", "="].contains(scalars[index]) || attribute.isEmpty && scalars[index] == "=" {
                attribute.unicodeScalars.append(scalars[index])
                index += 1
            }
            while index < scalars.count, Self.isSpace(scalars[index]) { index += 1 }
            var value = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                while index < scalars.count, Self.isSpace(scalars[index]) { index += 1 }
                if index < scalars.count, scalars[index] == "\"" || scalars[index] == "'" {
                    let quote = scalars[index]
                    index += 1
                    while index < scalars.count, scalars[index] != quote {
                        value.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                    index += 1
                } else {
                    while index < scalars.count, !Self.isSpace(scalars[index]), scalars[index] != ">" {
                        value.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                }
            }
            let lowered = attribute.lowercased()
            if !lowered.isEmpty, !attributes.contains(where: { $0.name == lowered }) {
                attributes.append((lowered, HTMLEntities.decode(value)))
            }
        }
        guard index <= scalars.count else {
            position = start
            return nil
        }
        position = Swift.min(index, scalars.count)
        if closing { return .end(name: name) }
        if Self.rawTextElements.contains(name), !selfClosing { rawTextEnd = name }
        return .start(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" || scalar == "\u{0C}"
    }
}

/// Named and numeric character references, as far as news HTML uses them.
public enum HTMLEntities {
    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "ndash": "–", "mdash": "—",
        "hellip": "…", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "laquo": "«", "raquo": "»", "copy": "©",
        "reg": "®", "trade": "™", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "deg": "°", "middot": "·", "bull": "•",
        "times": "×", "divide": "÷", "minus": "−", "plusmn": "±", "frac12": "½", "frac14": "¼", "frac34": "¾", "sect": "§",
        "para": "¶", "shy": "\u{AD}", "zwj": "\u{200D}", "zwnj": "\u{200C}", "thinsp": "\u{2009}", "ensp": "\u{2002}",
        "emsp": "\u{2003}", "prime": "′", "Prime": "″", "sbquo": "‚", "bdquo": "„", "dagger": "†", "Dagger": "‡",
        "iexcl": "¡", "iquest": "¿", "eacute": "é", "egrave": "è", "aacute": "á", "agrave": "à", "oacute": "ó", "uacute": "ú",
        "iacute": "í", "ntilde": "ñ", "ccedil": "ç", "uuml": "ü", "ouml": "ö", "auml": "ä", "szlig": "ß", "Eacute": "É",
        "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "oslash": "ø", "aring": "å", "aelig": "æ", "Oslash": "Ø", "Aring": "Å",
    ]

    /// `text` with character references replaced by what they stand for; unknown ones kept as written.
    public static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.prefix(32).firstIndex(of: ";") else {
                result += "&"
                rest = after
                continue
            }
            let name = after[..<semicolon]
            var replacement: String?
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Self.scalar)
            } else if name.hasPrefix("#") {
                replacement = UInt32(name.dropFirst()).flatMap(Self.scalar)
            } else {
                replacement = named[String(name)]
            }
            if let replacement {
                result += replacement
                rest = after[after.index(after: semicolon)...]
            } else {
                result += "&"
                rest = after
            }
        }
        return result + rest
    }

    private static func scalar(_ value: UInt32) -> String? {
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return String(Character(scalar))
    }
}

/// Keeps the HTML that formats a story and drops everything that could act: scripts, styles,
/// forms and their controls (which a planted `form=` attribute could attach to a real form of the
/// page), frames, objects, event handlers, `style`, and links to anything but web, mail and
/// in-page addresses. What is kept is written back escaped.
///
/// Works token by token, so a fragment (one raw-HTML piece of a Markdown document) can be
/// cleaned on its own.
public enum HTMLSanitizer {
    /// Elements kept, with the attributes each may carry (besides `title`, `lang` and `dir`).
    static let allowed: [String: Set<String>] = [
        "a": ["href", "rel"], "abbr": [], "b": [], "blockquote": ["cite"], "br": [], "caption": [], "cite": [], "code": [],
        "dd": [], "del": [], "details": [], "dfn": [], "div": [], "dl": [], "dt": [], "em": [], "figcaption": [], "figure": [],
        "h2": [], "h3": [], "h4": [], "h5": [], "h6": [], "hr": [], "i": [], "img": ["src", "alt", "width", "height"], "ins": [],
        "kbd": [], "li": [], "mark": [], "ol": ["start", "reversed"], "p": [], "pre": [], "q": ["cite"], "s": [], "samp": [],
        "small": [], "span": [], "strong": [], "sub": [], "summary": [], "sup": [], "table": [], "tbody": [], "td": ["colspan", "rowspan"],
        "tfoot": [], "th": ["colspan", "rowspan", "scope"], "thead": [], "time": ["datetime"], "tr": [], "u": [], "ul": [], "var": [],
    ]
    static let globalAttributes: Set<String> = ["title", "lang", "dir"]
    static let urlAttributes: Set<String> = ["href", "src", "cite"]
    /// Elements dropped with everything inside them.
    static let droppedWithContent: Set<String> = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext", "template", "select", "svg", "math", "object"]

    /// `html` with only what the allowlist keeps.
    public static func sanitize(_ html: String) -> String {
        var output = ""
        var skipping: String?
        for token in HTMLTokenizer(html) {
            if let element = skipping {
                if case .end(let name) = token, name == element { skipping = nil }
                continue
            }
            switch token {
            case .text(let text):
                output += escapeText(text)
            case .start(let name, let attributes, let selfClosing):
                if droppedWithContent.contains(name) {
                    if !selfClosing { skipping = name }
                    continue
                }
                guard let permitted = allowed[name] else { continue }
                output += "<" + name
                for (attribute, value) in attributes where permitted.contains(attribute) || globalAttributes.contains(attribute) {
                    if urlAttributes.contains(attribute), !isSafe(url: value, image: name == "img") { continue }
                    output += " \(attribute)=\"\(escapeAttribute(value))\""
                }
                output += ">"
            case .end(let name):
                if allowed[name] != nil, !["br", "hr", "img"].contains(name) { output += "</\(name)>" }
            case .comment, .other:
                continue
            }
        }
        return output
    }

    /// Web, mail, telephone and relative addresses; never `javascript:`, `data:` (but images'
    /// `data:image/…`), `vbscript:` or `file:`.
    public static func isSafe(url: String, image: Bool = false) -> Bool {
        let compact = String(url.unicodeScalars.filter { $0.value > 0x20 && $0 != "\u{7F}" }).lowercased()
        guard let colon = compact.firstIndex(of: ":") else { return true }
        if let slash = compact.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }), slash < colon { return true }
        let scheme = compact[..<colon]
        if image && scheme == "data" { return compact.hasPrefix("data:image/") && !compact.hasPrefix("data:image/svg") }
        return ["http", "https", "mailto", "tel"].contains(scheme)
    }

    public static func escapeText(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(character)
            }
        }
        return result
    }

    public static func escapeAttribute(_ text: String) -> String {
        escapeText(text).replacingOccurrences(of: "\"", with: "&quot;")
    }
}
