import Foundation

/// Turns the HTML another system stored (WordPress's classic and block editors, Ghost) into
/// Masthead's Markdown, keeping its structure: paragraphs, line breaks, headings, lists, quotes,
/// tables, code, links, emphasis, and images with their captions (`![alt](src "caption")`,
/// which Masthead shows as a figure). A video or X post the page embedded becomes its address on
/// a line of its own, which Masthead shows as a consent-gated embed.
///
/// What Markdown cannot hold is removed, never shown as text: scripts, styles, forms, frames
/// from unknown sites, objects; each removal is listed in ``Result/dropped``. The Markdown holds
/// no raw HTML, so it renders the same whatever the site's `trust_html`.
public struct HTMLToMarkdown {
    public struct Result: Sendable, Equatable {
        public var markdown: String
        /// What was removed, e.g. `script`, `iframe from ads.example.com`, one entry per element.
        public var dropped: [String]
    }

    /// What an image's address becomes: the address to write (e.g. `/media/…`), or nil to leave
    /// the image out (it could not be had).
    public typealias ImageResolver = (_ source: String) -> String?

    /// `html` as Markdown. With `paragraphsFromLineBreaks` (WordPress's classic editor, whose
    /// `wpautop` makes paragraphs when the post is shown), a blank line in text starts a paragraph
    /// and a single line break is kept as a line break.
    /// `links` may rewrite link addresses (the old site's own, made relative to this one).
    public static func convert(
        _ html: String, paragraphsFromLineBreaks: Bool = false, images: @escaping ImageResolver = { $0 },
        links: @escaping (String) -> String = { $0 }
    ) -> Result {
        var converter = HTMLToMarkdown(autop: paragraphsFromLineBreaks, resolve: images, link: links)
        let root = HTMLTree.parse(html)
        let blocks = converter.blocks(root.children)
        return Result(markdown: blocks.joined(separator: "\n\n"), dropped: converter.dropped)
    }

    private let autop: Bool
    private let resolve: ImageResolver
    private let link: (String) -> String
    private var dropped: [String] = []

    private init(autop: Bool, resolve: @escaping ImageResolver, link: @escaping (String) -> String) {
        self.autop = autop
        self.resolve = resolve
        self.link = link
    }

    static let blockElements: Set<String> = [
        "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "figure", "blockquote", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr", "dl", "dt", "dd", "center", "address", "details", "summary",
        "figcaption", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "hgroup",
    ]
    /// Removed with everything inside, and listed.
    static let droppedElements: Set<String> = [
        "script", "style", "form", "input", "button", "select", "textarea", "object", "embed", "applet", "noscript", "link", "meta",
        "template", "canvas", "svg", "math", "frameset", "frame", "noembed", "base", "dialog",
    ]
    /// Removed with everything inside, silently: they hold nothing a reader saw.
    static let silentElements: Set<String> = ["head", "title", "colgroup", "col", "map", "area", "param", "track", "source", "datalist"]

    // MARK: Blocks

    /// Markdown blocks for `nodes`, each a paragraph, heading, list, quote, table, code block or figure.
    private mutating func blocks(_ nodes: [HTMLTree.Node]) -> [String] {
        var blocks: [String] = []
        var run: [HTMLTree.Node] = []
        func flush(_ converter: inout HTMLToMarkdown) {
            blocks += converter.paragraphs(run)
            run = []
        }
        for node in nodes {
            if case .element(let element) = node, isBlock(element) {
                flush(&self)
                blocks += block(element)
            } else {
                run.append(node)
            }
        }
        flush(&self)
        return blocks.filter { !$0.isEmpty }
    }

    private func isBlock(_ element: HTMLTree.Element) -> Bool {
        Self.blockElements.contains(element.name) || Self.droppedElements.contains(element.name) || Self.silentElements.contains(element.name)
            || element.name == "iframe" || element.name == "video" || element.name == "audio"
    }

    private mutating func block(_ element: HTMLTree.Element) -> [String] {
        let name = element.name
        if Self.silentElements.contains(name) { return [] }
        if Self.droppedElements.contains(name) {
            dropped.append(name)
            return []
        }
        switch name {
        case "h1", "h2", "h3", "h4", "h5", "h6":
            let text = inline(element.children).collapsingBreaks
            // A heading ending in `#` would lose it as a closing sequence.
            let kept = text.hasSuffix("#") ? String(text.dropLast()) + "\\#" : text
            return text.isEmpty ? [] : [String(repeating: "#", count: Int(String(name.last!))!) + " " + kept]
        case "p":
            return paragraphs(element.children)
        case "hr":
            return ["* * *"]
        case "pre":
            return [codeBlock(element)]
        case "ul", "ol":
            return [list(element, ordered: name == "ol")].filter { !$0.isEmpty }
        case "blockquote":
            let inner = blocks(element.children)
            guard !inner.isEmpty else { return [] }
            return [inner.joined(separator: "\n\n").split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? ">" : "> " + $0 }.joined(separator: "\n")]
        case "figure":
            return figure(element)
        case "table":
            return table(element)
        case "iframe":
            return embed(element)
        case "video", "audio":
            return media(element)
        case "dt":
            let text = inline(element.children).collapsingBreaks
            return text.isEmpty ? [] : ["**" + text + "**"]
        default:
            // div, section, li outside a list, figcaption outside a figure, cite in a quote…
            return blocks(element.children)
        }
    }

    /// Paragraphs for a run of inline content; with autop, blank lines in its text split it.
    private mutating func paragraphs(_ nodes: [HTMLTree.Node]) -> [String] {
        guard !nodes.isEmpty else { return [] }
        var result: [String] = []
        var images: [String] = []
        let text = inline(nodes, lifted: &images)
        for part in text.split(separator: Self.paragraphBreak) {
            let paragraph = part.finishingBreaks
            guard !paragraph.isEmpty else { continue }
            // An address alone on its line is a link (and a video's, an embed).
            if let address = Self.bareAddress(paragraph) {
                result.append("<" + address + ">")
            } else {
                result.append(paragraph)
            }
        }
        return result + images
    }

    private mutating func codeBlock(_ element: HTMLTree.Element) -> String {
        let code = element.textContent.trimmingTrailingNewlines
        let classes = (element.attribute("class") ?? "") + " " + (element.firstElement(named: "code")?.attribute("class") ?? "")
        let language = classes.split(separator: " ").first { $0.hasPrefix("language-") || $0.hasPrefix("lang-") }
            .map { String($0.split(separator: "-", maxSplits: 1).last ?? "") } ?? ""
        var fence = "```"
        while code.contains(fence) { fence += "`" }
        return fence + language + "\n" + code + "\n" + fence
    }

    private mutating func list(_ element: HTMLTree.Element, ordered: Bool) -> String {
        var items: [String] = []
        var number = Int(element.attribute("start") ?? "") ?? 1
        for child in element.children {
            guard case .element(let item) = child else {
                if case .text(let text) = child, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    items.append("- " + Self.escape(text.collapsingWhitespace))
                }
                continue
            }
            let marker = ordered ? "\(number). " : "- "
            number += 1
            let content = item.name == "li" ? blocks(item.children) : block(item)
            let body = content.joined(separator: "\n\n")
            let indent = String(repeating: " ", count: marker.count)
            let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
            guard let first = lines.first else { continue }
            items.append(([marker + first] + lines.dropFirst().map { $0.isEmpty ? "" : indent + $0 }).joined(separator: "\n"))
        }
        return items.joined(separator: "\n")
    }

    /// A figure: its images with the caption, an embedded video, or (a gallery) figures inside.
    private mutating func figure(_ element: HTMLTree.Element) -> [String] {
        let nestedFigures = element.descendants(named: "figure")
        let ownCaption = nestedFigures.isEmpty
            ? element.firstElement(named: "figcaption")
            : element.children.compactMap(\.element).first { $0.name == "figcaption" }
        let caption = ownCaption.map { inline($0.children).collapsingBreaks.plainCaption } ?? ""
        if !nestedFigures.isEmpty {
            // A gallery: each of its figures on its own, then the gallery's own caption.
            return nestedFigures.flatMap { figure($0) } + (caption.isEmpty ? [] : [Self.escape(caption)])
        }
        let images = element.descendants(named: "img")
        if images.isEmpty {
            // An embed: WordPress writes the address as the figure's text.
            let content = blocks(element.children.filter { !($0.element?.name == "figcaption") })
            return content + (caption.isEmpty ? [] : [Self.escape(caption)])
        }
        return images.enumerated().compactMap { index, image in
            self.image(image, caption: index == images.count - 1 ? caption : "")
        }
    }

    /// `![alt](src "caption")`, or nil when the image cannot be had.
    private mutating func image(_ element: HTMLTree.Element, caption: String) -> String? {
        // Lazy-loading plugins keep the real address in data-src and a blank placeholder in src.
        let candidates = [element.attribute("src"), element.attribute("data-src"), element.attribute("data-lazy-src"), element.attribute("data-orig-file")]
        guard let source = candidates.compactMap({ $0?.trimmingCharacters(in: .whitespaces) })
            .first(where: { !$0.isEmpty && !$0.lowercased().hasPrefix("data:") })
        else { return nil }
        guard let resolved = resolve(source) else { return nil }
        let alt = Self.escape(element.attribute("alt")?.collapsingWhitespace ?? "")
        let title = caption.isEmpty ? "" : " \"" + caption.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        return "![\(alt)](\(Self.destination(resolved))\(title))"
    }

    private mutating func table(_ element: HTMLTree.Element) -> [String] {
        var rows: [[String]] = []
        var headerRows = 0
        for row in element.descendants(named: "tr") {
            let cells = row.children.compactMap(\.element).filter { $0.name == "td" || $0.name == "th" }
            guard !cells.isEmpty else { continue }
            let texts = cells.map { inline($0.children).collapsingBreaks.replacingOccurrences(of: "|", with: "\\|") }
            if rows.isEmpty, cells.allSatisfy({ $0.name == "th" }) || row.isInside("thead", within: element) { headerRows = 1 }
            rows.append(texts)
        }
        guard !rows.isEmpty else { return [] }
        let width = rows.map(\.count).max() ?? 1
        let padded = rows.map { $0 + Array(repeating: "", count: width - $0.count) }
        // A GFM table needs a header row: without one, an empty header is written.
        let header = headerRows == 1 ? padded[0] : Array(repeating: " ", count: width)
        let body = headerRows == 1 ? Array(padded.dropFirst()) : padded
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + Array(repeating: " --- |", count: width).joined()]
        lines += body.map { "| " + $0.joined(separator: " | ") + " |" }
        var result = [lines.joined(separator: "\n")]
        if let caption = element.firstElement(named: "caption") {
            let text = inline(caption.children).collapsingBreaks
            if !text.isEmpty { result.insert("**" + text + "**", at: 0) }
        }
        return result
    }

    /// A frame: a known video or post becomes its address on a line of its own; others are removed.
    private mutating func embed(_ element: HTMLTree.Element) -> [String] {
        let source = element.attribute("src") ?? ""
        if let video = Self.embeddedVideo(source) { return ["<\(video.watchURL)>"] }
        let host = URLComponents(string: source)?.host
        dropped.append("iframe" + (host.map { " from \($0)" } ?? ""))
        return []
    }

    /// The video or post behind a player address (`youtube.com/embed/ID`, `player.vimeo.com/video/ID`…).
    static func embeddedVideo(_ source: String) -> Embeds.Video? {
        let address = source.hasPrefix("//") ? "https:" + source : source
        if let video = Embeds.video(at: address) { return video }
        guard let url = URLComponents(string: address), let host = url.host?.lowercased() else { return nil }
        let parts = url.path.split(separator: "/").map(String.init)
        if ["www.youtube.com", "youtube.com", "www.youtube-nocookie.com", "youtube-nocookie.com"].contains(host), parts.count == 2, parts[0] == "embed" {
            return Embeds.video(at: "https://www.youtube.com/watch?v=" + parts[1])
        }
        if host == "player.vimeo.com", parts.count == 2, parts[0] == "video" {
            return Embeds.video(at: "https://vimeo.com/" + parts[1])
        }
        return nil
    }

    /// A video or audio file: a link to it (the file stays where it was).
    private mutating func media(_ element: HTMLTree.Element) -> [String] {
        let source = element.attribute("src") ?? element.firstElement(named: "source")?.attribute("src") ?? ""
        guard !source.isEmpty, HTMLSanitizer.isSafe(url: source) else {
            dropped.append(element.name)
            return []
        }
        if let video = Self.embeddedVideo(source) { return ["<\(video.watchURL)>"] }
        let label = element.name == "video" ? "Watch the video" : "Listen to the recording"
        return ["[\(label)](\(Self.destination(source)))"]
    }

    // MARK: Inline

    /// The web address a paragraph consists of, if it is only that.
    static func bareAddress(_ paragraph: String) -> String? {
        guard paragraph.hasPrefix("http"), !paragraph.contains(" ") else { return nil }
        var text = ""
        var escaped = false
        for character in paragraph {
            if !escaped, character == "\\" { escaped = true; continue }
            escaped = false
            text.append(character)
        }
        guard text.hasPrefix("https://") || text.hasPrefix("http://"), !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }),
              URLComponents(string: text)?.host != nil
        else { return nil }
        return text
    }

    /// Marks a paragraph break found in text (autop), split on after the run is written.
    static let paragraphBreak: Character = "\u{1}"
    /// Marks a line break (`<br>`, or a single newline with autop).
    static let lineBreak: Character = "\u{2}"

    private mutating func inline(_ nodes: [HTMLTree.Node]) -> String {
        var images: [String] = []
        let text = inline(nodes, lifted: &images)
        // Images found inside a heading or cell follow it as text-less blocks would; here, they stay inline.
        return ([text] + images).filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Inline Markdown for `nodes`. Images with captions, embeds and other blocks found inside
    /// inline content (WordPress wraps them in `<p>`) are returned in `lifted`, to follow the paragraph.
    private mutating func inline(_ nodes: [HTMLTree.Node], lifted: inout [String]) -> String {
        var out = ""
        for node in nodes {
            switch node {
            case .text(let text):
                Self.append(textMarkdown(text), to: &out)
            case .comment:
                continue
            case .element(let element):
                Self.append(inlineElement(element, lifted: &lifted), to: &out)
            }
        }
        return out
    }

    /// Text as Markdown in one pass over its scalars: whitespace collapsed, markup characters
    /// escaped; with autop, a blank line marks a paragraph break and a single line break a line break.
    private func textMarkdown(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var newlines = 0
        var scalars = text.unicodeScalars.makeIterator()
        var next = scalars.next()
        var previous: Unicode.Scalar?
        while let scalar = next {
            next = scalars.next()
            defer { previous = scalar }
            switch scalar {
            case "\n":
                if previous != "\r" { newlines += 1 }
                continue
            case "\r":
                newlines += 1
                continue
            case " ", "\t":
                pendingSpace = true
                continue
            case "\u{1}", "\u{2}":
                continue
            default:
                if scalar.value > 0x7F, scalar.properties.isWhitespace {
                    pendingSpace = true
                    continue
                }
            }
            if let separator = separator(newlines: newlines, space: pendingSpace) { out.append(separator) }
            pendingSpace = false
            newlines = 0
            Self.appendEscaped(scalar, before: next, to: &out)
        }
        if let separator = separator(newlines: newlines, space: pendingSpace) { out.append(separator) }
        return String(out)
    }

    /// What whitespace between two pieces of text becomes: with autop, a blank line a paragraph
    /// break and a line break a line break; otherwise any of it one space.
    private func separator(newlines: Int, space: Bool) -> Unicode.Scalar? {
        if autop, newlines >= 2 { return Self.paragraphBreakScalar }
        if autop, newlines == 1 { return Self.lineBreakScalar }
        return space || newlines > 0 ? " " : nil
    }

    static let paragraphBreakScalar: Unicode.Scalar = "\u{1}"
    static let lineBreakScalar: Unicode.Scalar = "\u{2}"

    private mutating func inlineElement(_ element: HTMLTree.Element, lifted: inout [String]) -> String {
        switch element.name {
        case "br":
            return String(Self.lineBreak)
        case "img":
            // An image alone in a paragraph is a block of its own; beside text it stays inline.
            guard let markdown = image(element, caption: "") else { return "" }
            return markdown
        case "a":
            let content = inline(element.children, lifted: &lifted)
            guard let href = element.attribute("href")?.trimmingCharacters(in: .whitespaces), !href.isEmpty,
                  HTMLSanitizer.isSafe(url: href), !content.trimmingCharacters(in: .whitespaces).isEmpty
            else { return content }
            // A link around an image (to the full-size file or its attachment page) adds nothing.
            if content.hasPrefix("![") && content.hasSuffix(")") && element.descendants(named: "img").count == 1
                && element.textContent.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                return content
            }
            if let video = Self.embeddedVideo(href), content == Self.escape(href) { return "<\(video.watchURL)>" }
            return "[" + content + "](" + Self.destination(link(href)) + ")"
        case "strong", "b":
            return Self.wrap(inline(element.children, lifted: &lifted), "**")
        case "em", "i", "cite", "dfn", "var":
            return Self.wrap(inline(element.children, lifted: &lifted), "*")
        case "del", "s", "strike":
            return Self.wrap(inline(element.children, lifted: &lifted), "~~")
        case "code", "kbd", "samp", "tt":
            let code = element.textContent.collapsingWhitespace
            guard !code.isEmpty else { return "" }
            var ticks = "`"
            while code.contains(ticks) { ticks += "`" }
            let pad = code.hasPrefix("`") || code.hasSuffix("`") ? " " : ""
            return ticks + pad + code + pad + ticks
        case "q":
            return "“" + inline(element.children, lifted: &lifted) + "”"
        case "iframe", "video", "audio", "figure", "table", "ul", "ol", "blockquote", "pre", "div", "p",
             "h1", "h2", "h3", "h4", "h5", "h6", "hr":
            // Blocks inside inline content (WordPress's `<p><iframe …></p>`): after the paragraph.
            lifted += block(element)
            return ""
        default:
            if Self.droppedElements.contains(element.name) {
                dropped.append(element.name)
                return ""
            }
            if Self.silentElements.contains(element.name) { return "" }
            // span, u, sup, sub, mark, small, abbr, time, font, label…: their text.
            return inline(element.children, lifted: &lifted)
        }
    }

    /// `**text**` with the spaces at its edges moved outside, as Markdown needs them.
    /// `**text**`, with spaces and line breaks at its edges moved outside the markers, as
    /// Markdown needs them.
    static func wrap(_ text: String, _ marker: String) -> String {
        guard !text.contains(paragraphBreak) else { return text }
        let characters = Array(text)
        var start = 0
        while start < characters.count, characters[start] == " " || characters[start] == lineBreak { start += 1 }
        var end = characters.count
        while end > start, characters[end - 1] == " " || characters[end - 1] == lineBreak { end -= 1 }
        guard end > start else { return text }
        return String(characters[..<start]) + marker + String(characters[start..<end]) + marker + String(characters[end...])
    }

    /// `out` followed by `piece`. Emphasis that closes after punctuation right before a letter
    /// (`**Update:**The`) would not close in Markdown: the punctuation then moves after the marker.
    static func append(_ piece: String, to out: inout String) {
        if let first = piece.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) {
            for marker in ["**", "~~", "*"] where out.hasSuffix(marker) {
                let body = out.dropLast(marker.count)
                guard let punctuation = body.last, punctuation.isPunctuation, !body.dropLast().hasSuffix("\\"),
                      !body.hasSuffix(marker)
                else { break }
                out = String(body.dropLast()) + marker + String(punctuation)
                break
            }
        }
        out += piece
    }

    /// A link or image destination: in angle brackets when it holds spaces or parentheses.
    public static func destination(_ url: String) -> String {
        if url.contains(where: { $0 == " " || $0 == "(" || $0 == ")" || $0 == "<" || $0 == ">" }) {
            return "<" + url.replacingOccurrences(of: "<", with: "%3C").replacingOccurrences(of: ">", with: "%3E") + ">"
        }
        return url
    }

    /// Text with every character Markdown would read as markup escaped (the start of a line
    /// is seen to when the paragraph is finished).
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let scalar = next {
            next = scalars.next()
            appendEscaped(scalar, before: next, to: &out)
        }
        return String(out)
    }

    private static func appendEscaped(_ scalar: Unicode.Scalar, before next: Unicode.Scalar?, to out: inout String.UnicodeScalarView) {
        switch scalar {
        case "\\", "`", "*", "_", "[", "]", "<", "|", "~":
            out.append("\\")
        case "&" where next.map { $0.properties.isAlphabetic || $0 == "#" } == true:
            out.append("\\")
        default:
            break
        }
        out.append(scalar)
    }
}

private extension String {
    /// Runs of whitespace (newlines included) as one space.
    var collapsingWhitespace: String {
        var out = String.UnicodeScalarView()
        var lastWasSpace = false
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(scalar)
                lastWasSpace = false
            }
        }
        return String(out)
    }

    /// One line: break markers as spaces, trimmed.
    var collapsingBreaks: String {
        String(map { $0 == HTMLToMarkdown.paragraphBreak || $0 == HTMLToMarkdown.lineBreak ? " " : $0 }).collapsingWhitespace.trimmedSpaces
    }

    /// Without the spaces at either end.
    var trimmedSpaces: String {
        guard first == " " || last == " " else { return self }
        return String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

private extension Substring {
    /// A paragraph: trimmed, line-break markers at its edges dropped, the others written as
    /// Markdown hard breaks, and a start that Markdown would read as a list, heading or quote escaped.
    var finishingBreaks: String {
        split(separator: HTMLToMarkdown.lineBreak).map { String($0).trimmedSpaces }.filter { !$0.isEmpty }
            .map(\.escapingLineStart).joined(separator: "\\\n")
    }
}

private extension String {

    /// A line that would start a list item, quote or heading, escaped to stay text.
    var escapingLineStart: String {
        if let first = first, first == "-" || first == "+" || first == "=" || first == "#" || first == ">" { return "\\" + self }
        let digits = prefix { $0.isNumber }
        if !digits.isEmpty, digits.count < 10, dropFirst(digits.count).first.map({ $0 == "." || $0 == ")" }) == true {
            return digits + "\\" + dropFirst(digits.count)
        }
        return self
    }

    var trimmingTrailingNewlines: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        while text.hasPrefix("\n") { text.removeFirst() }
        return text
    }

    /// A caption as plain text for a Markdown image title (its markup removed).
    var plainCaption: String {
        var out = ""
        var escaped = false
        for character in self {
            if escaped { out.append(character); escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "*" || character == "`" { continue }
            out.append(character)
        }
        // Links keep their text.
        return out.replacingOccurrences(of: #"\[([^\]]*)\]\([^)]*\)"#, with: "$1", options: .regularExpression)
    }
}

/// A forgiving tree of HTML elements, built from ``HTMLTokenizer``'s tokens the way browsers
/// mend common mistakes: void elements never hold content, a new block closes an open paragraph,
/// a list item closes the previous one, an end tag closes what was left open inside it, and a
/// stray end tag is ignored.
public enum HTMLTree {
    public final class Element {
        public let name: String
        public let attributes: [(name: String, value: String)]
        public var children: [Node] = []

        init(name: String, attributes: [(name: String, value: String)]) {
            self.name = name
            self.attributes = attributes
        }

        public func attribute(_ name: String) -> String? {
            attributes.first { $0.name == name }?.value
        }

        /// The text inside, markup removed.
        public var textContent: String {
            children.map { node in
                switch node {
                case .text(let text): text
                case .element(let element): element.name == "br" ? "\n" : element.textContent
                case .comment: ""
                }
            }.joined()
        }

        public func firstElement(named name: String) -> Element? {
            for child in children {
                guard case .element(let element) = child else { continue }
                if element.name == name { return element }
                if let found = element.firstElement(named: name) { return found }
            }
            return nil
        }

        /// Elements named `name` inside, in document order, not looking inside the ones found.
        public func descendants(named name: String) -> [Element] {
            var found: [Element] = []
            for child in children {
                guard case .element(let element) = child else { continue }
                if element.name == name { found.append(element) } else { found += element.descendants(named: name) }
            }
            return found
        }

        /// Whether this element sits inside an element named `name` below `ancestor`.
        func isInside(_ name: String, within ancestor: Element) -> Bool {
            func search(_ element: Element, inside: Bool) -> Bool? {
                for child in element.children {
                    guard case .element(let child) = child else { continue }
                    if child === self { return inside }
                    if let found = search(child, inside: inside || child.name == name) { return found }
                }
                return nil
            }
            return search(ancestor, inside: false) ?? false
        }
    }

    public enum Node {
        case text(String)
        case element(Element)
        case comment(String)

        var element: Element? {
            if case .element(let element) = self { return element }
            return nil
        }
    }

    static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param", "keygen",
    ]
    /// Starting one of these closes an open `<p>`.
    static let closesParagraph: Set<String> = [
        "address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section", "table", "ul",
    ]
    /// Elements nested deeper than this are read as text of their parent, so hostile nesting cannot exhaust the stack.
    static let maximumDepth = 200

    /// The document's root element (named `#root`).
    public static func parse(_ html: String) -> Element {
        let root = Element(name: "#root", attributes: [])
        var stack = [root]
        func close(to index: Int) { stack.removeSubrange(index...) }
        func open(named name: String) -> Int? { stack.lastIndex { $0.name == name } }
        for token in HTMLTokenizer(html) {
            switch token {
            case .text(let text):
                stack[stack.count - 1].children.append(.text(text))
            case .comment(let text):
                stack[stack.count - 1].children.append(.comment(text))
            case .other:
                continue
            case .start(let name, let attributes, let selfClosing):
                if closesParagraph.contains(name), let index = open(named: "p"), !stack[index...].contains(where: { $0.name == "button" }) {
                    close(to: index)
                }
                switch name {
                case "li":
                    if let index = stack.lastIndex(where: { ["li", "ul", "ol"].contains($0.name) }), stack[index].name == "li" { close(to: index) }
                case "dt", "dd":
                    if let index = stack.lastIndex(where: { ["dt", "dd", "dl"].contains($0.name) }), stack[index].name != "dl" { close(to: index) }
                case "tr":
                    if let index = stack.lastIndex(where: { ["tr", "table"].contains($0.name) }), stack[index].name == "tr" { close(to: index) }
                case "td", "th":
                    if let index = stack.lastIndex(where: { ["td", "th", "tr", "table"].contains($0.name) }), ["td", "th"].contains(stack[index].name) {
                        close(to: index)
                    }
                default:
                    break
                }
                let element = Element(name: name, attributes: attributes)
                stack[stack.count - 1].children.append(.element(element))
                if !selfClosing, !voidElements.contains(name), stack.count < maximumDepth { stack.append(element) }
            case .end(let name):
                if let index = open(named: name), index > 0 { close(to: index) }
            }
        }
        return root
    }
}
