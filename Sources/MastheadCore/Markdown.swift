import CCmarkGFM
import Foundation
import Synchronization

/// Renders Markdown to HTML with cmark-gfm: CommonMark plus GitHub's tables, strikethrough,
/// autolinks, task lists and footnotes.
///
/// Raw HTML in the source is shown as text unless the site trusts its authors' HTML.
/// A body's headings start at `h2`, so the page keeps its one `h1` for the headline.
public struct MarkdownRenderer: Sendable {
    /// What happens to raw HTML written in the Markdown.
    public enum RawHTML: Sendable, Equatable {
        /// Shown as text, as written.
        case escaped
        /// Kept where it formats (emphasis, tables, figures, links…); scripts, forms and their
        /// controls, frames, event handlers and styles are removed (``HTMLSanitizer``).
        case sanitized
        /// Passed through, with GitHub's tag filter (no `<script>`, `<iframe>`, `<style>`…).
        case trusted
    }

    public var rawHTML: RawHTML

    /// Whether raw HTML in Markdown passes through (with GitHub's tag filter) instead of being escaped.
    public var trustsHTML: Bool { rawHTML == .trusted }

    public init(trustsHTML: Bool = false) {
        self.init(rawHTML: trustsHTML ? .trusted : .escaped)
    }

    public init(rawHTML: RawHTML) {
        self.rawHTML = rawHTML
        Self.registerExtensions
    }

    private static let registerExtensions: Void = {
        cmark_gfm_core_extensions_ensure_registered()
    }()

    private static let extensionNames = ["table", "strikethrough", "autolink", "tasklist", "tagfilter"]

    /// cmark-gfm keeps process-wide state while extensions are attached and used (its table of
    /// special inline characters), so one document is parsed and rendered at a time.
    private static let lock = Mutex(())

    /// An image in the body, as written: `![alt](url)` on `line` of the Markdown.
    public struct BodyImage: Sendable {
        public var url: String
        public var alt: String
        public var line: Int
    }

    /// The HTML for `markdown`.
    public func html(from markdown: String) -> String {
        // Without an image handler nothing can throw.
        (try? html(from: markdown, images: nil)) ?? ""
    }

    /// The HTML for `markdown`; `images` may replace each body image with HTML of its own
    /// (a responsive `<img>`), or return nil to keep the plain one.
    public func html(from markdown: String, images: ((BodyImage) throws -> String?)?) throws -> String {
        // Raw HTML the site does not trust is turned into text before rendering, so the renderer
        // may pass through the HTML this code itself adds (responsive images).
        try Self.lock.withLock { _ in try render(markdown, images: images) }
    }

    private func render(_ markdown: String, images: ((BodyImage) throws -> String?)?) throws -> String {
        let options = CMARK_OPT_SMART | CMARK_OPT_FOOTNOTES | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_UNSAFE
        guard let parser = cmark_parser_new(options) else { return "" }
        defer { cmark_parser_free(parser) }
        for name in Self.extensionNames where rawHTML != .escaped || name != "tagfilter" {
            if let syntaxExtension = cmark_find_syntax_extension(name) {
                cmark_parser_attach_syntax_extension(parser, syntaxExtension)
            }
        }
        markdown.withCString { cmark_parser_feed(parser, $0, strlen($0)) }
        guard let document = cmark_parser_finish(parser) else { return "" }
        defer { cmark_node_free(document) }

        adjust(document)
        makeFigures(document)
        if let images { try replaceImages(in: document, with: images) }
        guard let rendered = cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser)) else { return "" }
        defer { free(rendered) }
        return Embeds.markPlaceholders(in: String(cString: rendered))
    }

    /// Moves headings to start at `h2` and, unless HTML is trusted, turns raw HTML into text.
    private func adjust(_ document: OpaquePointer) {
        var headings: [OpaquePointer] = []
        var htmlNodes: [OpaquePointer] = []
        var links: [OpaquePointer] = []
        let iterator = cmark_iter_new(document)
        defer { cmark_iter_free(iterator) }
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            switch cmark_node_get_type(node) {
            case CMARK_NODE_HEADING: headings.append(node)
            case CMARK_NODE_HTML_BLOCK, CMARK_NODE_HTML_INLINE: htmlNodes.append(node)
            case CMARK_NODE_LINK, CMARK_NODE_IMAGE: links.append(node)
            default: break
            }
        }
        // The body's top heading level becomes h2, the levels under it follow, so the page's
        // outline runs h1 (headline) → h2 → h3 with no gap whatever level the author started at.
        let topLevel = headings.map { cmark_node_get_heading_level($0) }.min() ?? 2
        for heading in headings {
            cmark_node_set_heading_level(heading, min(6, max(2, cmark_node_get_heading_level(heading) - topLevel + 2)))
        }
        guard rawHTML != .trusted else { return }
        // The same URLs cmark's safe mode drops: scripts, local files, data other than images.
        for node in links {
            let url = cmark_node_get_url(node).map { String(cString: $0) } ?? ""
            if Self.isUnsafe(url: url) { cmark_node_set_url(node, "") }
        }
        if rawHTML == .sanitized {
            for node in htmlNodes {
                let literal = cmark_node_get_literal(node).map { String(cString: $0) } ?? ""
                cmark_node_set_literal(node, HTMLSanitizer.sanitize(literal))
            }
            return
        }
        for node in htmlNodes {
            let literal = cmark_node_get_literal(node).map { String(cString: $0) } ?? ""
            let text = cmark_node_new(CMARK_NODE_TEXT)
            cmark_node_set_literal(text, literal.hasSuffix("\n") ? String(literal.dropLast()) : literal)
            if cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK {
                let paragraph = cmark_node_new(CMARK_NODE_PARAGRAPH)
                cmark_node_append_child(paragraph, text)
                cmark_node_replace(node, paragraph)
            } else {
                cmark_node_replace(node, text)
            }
            cmark_node_free(node)
        }
    }

    /// An image alone in its paragraph with a title, `![alt](src "caption")`, is a figure: the
    /// title becomes its caption.
    private func makeFigures(_ document: OpaquePointer) {
        var paragraphs: [OpaquePointer] = []
        let iterator = cmark_iter_new(document)
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator), cmark_node_get_type(node) == CMARK_NODE_PARAGRAPH,
                  let image = cmark_node_first_child(node), image == cmark_node_last_child(node), cmark_node_get_type(image) == CMARK_NODE_IMAGE,
                  let title = cmark_node_get_title(image), title.pointee != 0
            else { continue }
            paragraphs.append(node)
        }
        cmark_iter_free(iterator)
        for paragraph in paragraphs {
            let image = cmark_node_first_child(paragraph)!
            let caption = String(cString: cmark_node_get_title(image))
            cmark_node_set_title(image, "")
            let figure = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK)
            cmark_node_set_on_enter(figure, "<figure>")
            cmark_node_set_on_exit(figure, "<figcaption>\(Self.escapeHTML(caption))</figcaption></figure>")
            cmark_node_insert_before(paragraph, figure)
            cmark_node_unlink(paragraph)
            cmark_node_append_child(figure, paragraph)
        }
    }

    private func replaceImages(in document: OpaquePointer, with handler: (BodyImage) throws -> String?) throws {
        var found: [OpaquePointer] = []
        let iterator = cmark_iter_new(document)
        defer { cmark_iter_free(iterator) }
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            if event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator), cmark_node_get_type(node) == CMARK_NODE_IMAGE {
                found.append(node)
            }
        }
        for node in found {
            let url = cmark_node_get_url(node).map { String(cString: $0) } ?? ""
            guard let html = try handler(BodyImage(url: url, alt: Self.text(of: node), line: Int(cmark_node_get_start_line(node)))) else { continue }
            let replacement = cmark_node_new(CMARK_NODE_HTML_INLINE)
            cmark_node_set_literal(replacement, html)
            cmark_node_replace(node, replacement)
            cmark_node_free(node)
        }
    }

    static func isUnsafe(url: String) -> Bool {
        let scheme = url.prefix(while: { $0 != ":" && $0 != "/" && $0 != "?" && $0 != "#" })
            .filter { !$0.isWhitespace && !$0.isNewline && $0 != "\0" }.lowercased()
        guard url.contains(":"), url.count > scheme.count else { return false }
        if ["javascript", "vbscript", "file"].contains(scheme) { return true }
        if scheme == "data" {
            let type = url.dropFirst(5).lowercased()
            return !["image/png", "image/gif", "image/jpeg", "image/webp"].contains { type.hasPrefix($0) }
        }
        return false
    }

    /// The plain text inside a node (an image's alt text).
    private static func text(of node: OpaquePointer) -> String {
        var text = ""
        let iterator = cmark_iter_new(node)
        defer { cmark_iter_free(iterator) }
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            if event == CMARK_EVENT_ENTER, let child = cmark_iter_get_node(iterator), child != node, let literal = cmark_node_get_literal(child) {
                text += String(cString: literal)
            }
        }
        return text
    }

    /// `text` made safe inside an HTML attribute or element.
    public static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `text` with the five entities cmark writes turned back into characters.
    public static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result
    }

    /// Plain text of `markdown` with the markup removed, for summaries and search snippets.
    public static func plainText(fromHTML html: String) -> String {
        // One pass over the UTF-8 bytes: tags become spaces, runs of white space one space, and
        // the entities the renderer writes (&lt; &gt; &quot; &#39; &amp;) their characters.
        let source = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var inTag = false
        var pendingSpace = false
        var index = 0
        func emit(_ byte: UInt8) {
            if pendingSpace && !out.isEmpty { out.append(0x20) }
            pendingSpace = false
            out.append(byte)
        }
        while index < source.count {
            let byte = source[index]
            index += 1
            if inTag {
                if byte == UInt8(ascii: ">") { inTag = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "<"):
                inTag = true
                pendingSpace = true
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                pendingSpace = true
            case UInt8(ascii: "&"):
                var matched = false
                for (entity, character) in entities where source[(index - 1)...].starts(with: entity) {
                    emit(character)
                    index += entity.count - 1
                    matched = true
                    break
                }
                if !matched { emit(byte) }
            default:
                emit(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let entities: [([UInt8], UInt8)] = [
        (Array("&lt;".utf8), UInt8(ascii: "<")), (Array("&gt;".utf8), UInt8(ascii: ">")), (Array("&quot;".utf8), UInt8(ascii: "\"")),
        (Array("&#39;".utf8), UInt8(ascii: "'")), (Array("&amp;".utf8), UInt8(ascii: "&")),
    ]
}

