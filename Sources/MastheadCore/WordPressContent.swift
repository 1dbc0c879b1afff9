import Foundation

/// A WordPress post's content as WordPress shows it, in plain HTML: shortcodes converted
/// (`[caption]` to a figure with its caption, `[gallery]` to its pictures, `[embed]` to the
/// address on a line of its own, `[video]` and `[audio]` to their files) or removed, never left
/// as text. Block comments, `<!--more-->` and `<!--nextpage-->` are comments, which
/// ``HTMLToMarkdown`` leaves out, so a post split into pages is shown whole.
public enum WordPressContent {
    /// A picture in the media library, as a gallery shows it.
    public struct Attachment: Sendable, Equatable {
        public var url: String
        public var alt: String
        public var caption: String

        public init(url: String, alt: String, caption: String) {
            self.url = url
            self.alt = alt
            self.caption = caption
        }
    }

    public struct Result: Sendable, Equatable {
        public var html: String
        /// Whether the post came from the classic editor, whose paragraphs are blank lines.
        public var paragraphsFromLineBreaks: Bool
        /// Shortcodes removed, e.g. `[contact-form-7]`.
        public var removed: [String]
    }

    /// Shortcodes that show nothing a reader would miss in an archive, removed without a word.
    static let silent: Set<String> = ["toc", "ez-toc", "ad", "adsense", "share", "sharing", "related_posts", "jetpack_subscription_form"]

    /// `content` as HTML. `attachment` finds a picture by its id, `attachments` those uploaded to
    /// the post (a `[gallery]` without ids shows them).
    public static func html(
        _ content: String, attachment: (Int) -> Attachment?, attachments: () -> [Attachment] = { [] }
    ) -> Result {
        var removed: [String] = []
        let html = shortcodes(in: content, attachment: attachment, attachments: attachments, removed: &removed)
        return Result(html: html, paragraphsFromLineBreaks: !content.contains("<!-- wp:"), removed: removed)
    }

    /// `[name attributes]`, `[name attributes /]` or `[/name]`; `[[name]]` is the name written literally.
    private static let tag = try! NSRegularExpression(pattern: #"\[(\[?)(/?)([A-Za-z][A-Za-z0-9_-]*)((?:\s+[^\]]*)?)(/?)\](\]?)"#)
    private static let attribute = try! NSRegularExpression(pattern: #"([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))"#)

    private struct Tag {
        var range: NSRange
        var name: String
        var closing: Bool
        var selfClosing: Bool
        var literal: Bool
        var attributes: [String: String]
        /// Whether it sets attributes (`id="3"`), as shortcodes do and bracketed text does not.
        var hasAssignments: Bool
    }

    private static func shortcodes(
        in content: String, attachment: (Int) -> Attachment?, attachments: () -> [Attachment], removed: inout [String]
    ) -> String {
        let source = content as NSString
        let tags = tag.matches(in: content, range: NSRange(location: 0, length: source.length)).map { match -> Tag in
            let name = source.substring(with: match.range(at: 3)).lowercased()
            let rawAttributes = match.range(at: 4).location == NSNotFound ? "" : source.substring(with: match.range(at: 4))
            var attributes: [String: String] = [:]
            for pair in attribute.matches(in: rawAttributes, range: NSRange(location: 0, length: (rawAttributes as NSString).length)) {
                let key = (rawAttributes as NSString).substring(with: pair.range(at: 1)).lowercased()
                let value = (2...4).lazy.compactMap { index -> String? in
                    pair.range(at: index).location == NSNotFound ? nil : (rawAttributes as NSString).substring(with: pair.range(at: index))
                }.first ?? ""
                attributes[key] = HTMLEntities.decode(value)
            }
            return Tag(
                range: match.range, name: name, closing: match.range(at: 2).length > 0, selfClosing: match.range(at: 5).length > 0,
                literal: match.range(at: 1).length > 0 && match.range(at: 6).length > 0, attributes: attributes,
                hasAssignments: rawAttributes.contains("="))
        }
        var output = ""
        var position = 0
        var index = 0
        while index < tags.count {
            let current = tags[index]
            output += source.substring(with: NSRange(location: position, length: current.range.location - position))
            position = current.range.location + current.range.length
            index += 1
            if current.literal {
                output += "[" + source.substring(with: NSRange(location: current.range.location + 2, length: current.range.length - 4)) + "]"
                continue
            }
            // The matching end tag, if the shortcode encloses content.
            let end = current.closing || current.selfClosing ? nil : tags[index...].firstIndex { $0.closing && $0.name == current.name }
            var inner = ""
            if let end {
                let start = current.range.location + current.range.length
                inner = source.substring(with: NSRange(location: start, length: tags[end].range.location - start))
                position = tags[end].range.location + tags[end].range.length
                index = end + 1
            }
            if current.closing {
                // A stray end tag of a known shortcode goes; any other bracketed text stays.
                if known.contains(current.name) { continue }
                output += source.substring(with: current.range)
                continue
            }
            if let replacement = convert(current, inner: inner, enclosing: end != nil, attachment: attachment, attachments: attachments, removed: &removed) {
                output += replacement
            } else {
                // Not a shortcode after all (`[sic]`, `[1]`): kept as written.
                output += source.substring(with: current.range)
                if end != nil {
                    output += shortcodes(in: inner, attachment: attachment, attachments: attachments, removed: &removed) + "[/\(current.name)]"
                }
            }
        }
        output += source.substring(from: position)
        return output
    }

    static let known: Set<String> = ["caption", "wp_caption", "gallery", "embed", "video", "audio", "playlist"]

    private static let galleryIDList = try! NSRegularExpression(pattern: #"\[gallery\b[^\]]*?\b(?:ids|include)\s*=\s*["']?([0-9,\s]+)"#)

    /// The attachment ids every `[gallery ids="…"]` in `content` names, in order.
    public static func galleryIDs(in content: String) -> [Int] {
        let text = content as NSString
        return galleryIDList.matches(in: content, range: NSRange(location: 0, length: text.length)).flatMap {
            text.substring(with: $0.range(at: 1)).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    private static func convert(
        _ tag: Tag, inner: String, enclosing: Bool, attachment: (Int) -> Attachment?, attachments: () -> [Attachment], removed: inout [String]
    ) -> String? {
        var removedInside: [String] = []
        let content = shortcodes(in: inner, attachment: attachment, attachments: attachments, removed: &removedInside)
        defer { removed += removedInside }
        switch tag.name {
        case "caption", "wp_caption":
            // `[caption]<a><img></a> The caption[/caption]`, or the caption as an attribute.
            var picture = content
            var caption = tag.attributes["caption"] ?? ""
            if let imageEnd = content.range(of: #"<img[^>]*>(\s*</a>)?"#, options: .regularExpression) {
                picture = String(content[..<imageEnd.upperBound])
                let rest = content[imageEnd.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
                if !rest.isEmpty { caption = rest }
            }
            return "\n\n<figure>\(picture)<figcaption>\(caption)</figcaption></figure>\n\n"
        case "gallery":
            let ids = (tag.attributes["ids"] ?? tag.attributes["include"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let pictures = ids.isEmpty ? attachments() : ids.compactMap(attachment)
            let figures = pictures.map { picture in
                let caption = picture.caption.isEmpty ? "" : "<figcaption>\(picture.caption)</figcaption>"
                return #"<figure><img src="\#(HTMLSanitizer.escapeAttribute(picture.url))" alt="\#(HTMLSanitizer.escapeAttribute(picture.alt))">\#(caption)</figure>"#
            }
            return "\n\n<figure class=\"gallery\">" + figures.joined() + "</figure>\n\n"
        case "embed":
            let address = (enclosing ? content : tag.attributes["src"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return "\n\n<p>\(address)</p>\n\n"
        case "video", "audio":
            let keys = tag.name == "video" ? ["src", "mp4", "m4v", "webm", "ogv", "flv"] : ["src", "mp3", "m4a", "ogg", "wav", "wma"]
            guard let file = keys.lazy.compactMap({ tag.attributes[$0] }).first(where: { !$0.isEmpty }) else {
                removed.append("[\(tag.name)]")
                return ""
            }
            return "\n\n<\(tag.name) src=\"\(HTMLSanitizer.escapeAttribute(file))\"></\(tag.name)>\n\n"
        case "playlist":
            removed.append("[playlist]")
            return ""
        default:
            // Another plugin's shortcode: one that encloses content keeps it; one that takes
            // attributes (a form, a slider) shows nothing in an archive and is removed.
            if enclosing { return content }
            // `[sic]`, `[1]`, `[Photo by Ana Costa]` are text, as WordPress shows shortcodes it does not know.
            if silent.contains(tag.name) { return "" }
            guard tag.hasAssignments || tag.selfClosing || tag.name.contains("-") || tag.name.contains("_") else { return nil }
            removed.append("[\(tag.name)]")
            return ""
        }
    }
}
