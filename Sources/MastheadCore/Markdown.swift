import Foundation
import CCmarkGFM

/// Renders Markdown to HTML with cmark-gfm: CommonMark plus GitHub's tables, strikethrough,
/// autolinks, task lists and footnotes.
///
/// Raw HTML in the source is shown as text unless the site trusts its authors' HTML.
/// A body's headings start at `h2`, so the page keeps its one `h1` for the headline.
public struct MarkdownRenderer: Sendable {
    /// Whether raw HTML in Markdown passes through (with GitHub's tag filter) instead of being escaped.
    public var trustsHTML: Bool

    public init(trustsHTML: Bool = false) {
        self.trustsHTML = trustsHTML
        Self.registerExtensions
    }

    private static let registerExtensions: Void = {
        cmark_gfm_core_extensions_ensure_registered()
    }()

    private static let extensionNames = ["table", "strikethrough", "autolink", "tasklist", "tagfilter"]

    /// The HTML for `markdown`.
    public func html(from markdown: String) -> String {
        var options = CMARK_OPT_SMART | CMARK_OPT_FOOTNOTES | CMARK_OPT_VALIDATE_UTF8
        if trustsHTML { options |= CMARK_OPT_UNSAFE }
        guard let parser = cmark_parser_new(options) else { return "" }
        defer { cmark_parser_free(parser) }
        for name in Self.extensionNames where trustsHTML || name != "tagfilter" {
            if let syntaxExtension = cmark_find_syntax_extension(name) {
                cmark_parser_attach_syntax_extension(parser, syntaxExtension)
            }
        }
        markdown.withCString { cmark_parser_feed(parser, $0, strlen($0)) }
        guard let document = cmark_parser_finish(parser) else { return "" }
        defer { cmark_node_free(document) }

        adjust(document)
        guard let rendered = cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser)) else { return "" }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    /// Moves headings to start at `h2` and, unless HTML is trusted, turns raw HTML into text.
    private func adjust(_ document: OpaquePointer) {
        var headings: [OpaquePointer] = []
        var rawHTML: [OpaquePointer] = []
        let iterator = cmark_iter_new(document)
        defer { cmark_iter_free(iterator) }
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            switch cmark_node_get_type(node) {
            case CMARK_NODE_HEADING: headings.append(node)
            case CMARK_NODE_HTML_BLOCK, CMARK_NODE_HTML_INLINE: rawHTML.append(node)
            default: break
            }
        }
        // The body's top heading level becomes h2, the levels under it follow, so the page's
        // outline runs h1 (headline) → h2 → h3 with no gap whatever level the author started at.
        let topLevel = headings.map { cmark_node_get_heading_level($0) }.min() ?? 2
        for heading in headings {
            cmark_node_set_heading_level(heading, min(6, max(2, cmark_node_get_heading_level(heading) - topLevel + 2)))
        }
        guard !trustsHTML else { return }
        for node in rawHTML {
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

    /// Plain text of `markdown` with the markup removed, for summaries and search snippets.
    public static func plainText(fromHTML html: String) -> String {
        var text = ""
        var inTag = false
        for character in html {
            if character == "<" { inTag = true; text.append(" "); continue }
            if character == ">" { inTag = false; continue }
            if !inTag { text.append(character) }
        }
        let decoded = text.replacingEntities()
        return decoded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

extension String {
    fileprivate func replacingEntities() -> String {
        var result = self
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result
    }
}
