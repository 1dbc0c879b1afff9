import Foundation

/// Images in a stored article body. The stored HTML says only which picture and how large it is
/// (`<img src="/media/PATH" … width height data-placeholder>`); how it is offered to browsers
/// (sizes, formats, lazy loading) is decided when the page is rendered (``present(_:url:)``),
/// so every way an article is written (editor, API, imports) stores the same thing.
public enum BodyImages {
    /// What the store knows of a picture in the media folder.
    public struct Known: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var placeholder: String?

        public init(width: Int, height: Int, placeholder: String?) {
            self.width = width
            self.height = height
            self.placeholder = placeholder
        }
    }

    /// `<img src="/media/…" …>` as the Markdown renderer writes it.
    private static let mediaImage = try! NSRegularExpression(pattern: #"<img src="/media/([^"]+)"([^>]*?)\s*/?>"#)

    /// The media paths of the pictures `html` shows from the media folder, decoded.
    public static func mediaPaths(in html: String) -> [String] {
        guard html.contains("<img src=\"/media/") else { return [] }
        let source = html as NSString
        return mediaImage.matches(in: html, range: NSRange(location: 0, length: source.length)).map {
            decode(source.substring(with: $0.range(at: 1)))
        }
    }

    /// `html` with each picture from the media folder that `known` describes given its size and
    /// placeholder, so pages can reserve its space and offer it in several sizes.
    public static func resolve(_ html: String, known: [String: Known]) -> String {
        guard !known.isEmpty else { return html }
        return replace(in: html) { path, attributes in
            guard let image = known[path] else { return nil }
            let kept = attributes.replacingOccurrences(of: #"\s(width|height|data-placeholder)="[^"]*""#, with: "", options: .regularExpression)
            let placeholder = image.placeholder.map { #" data-placeholder="\#(MarkdownRenderer.escapeHTML($0))""# } ?? ""
            return #"<img src="/media/\#(encode(path))"\#(kept) width="\#(image.width)" height="\#(image.height)"\#(placeholder)>"#
        }
    }

    /// `html` with each sized picture from the media folder offered responsively: `srcset` of the
    /// widths `url` makes for `path`, never larger than the picture, lazily loaded, with its
    /// blurred placeholder as background while it loads.
    public static func present(_ html: String, widths: [Int], url: (_ path: String, _ width: Int) -> String) -> String {
        replace(in: html) { path, attributes in
            guard let width = integer("width", in: attributes), let height = integer("height", in: attributes), width > 0, height > 0 else {
                return nil
            }
            var offered = widths.filter { $0 < width }
            if !offered.contains(min(width, widths.last ?? width)) { offered.append(min(width, widths.last ?? width)) }
            let srcset = offered.map { "\(url(path, $0)) \(min($0, width))w" }.joined(separator: ", ")
            let middle = offered.first { $0 >= 800 } ?? offered[offered.count - 1]
            let alt = attribute("alt", in: attributes) ?? ""
            let title = attribute("title", in: attributes).map { #" title="\#($0)""# } ?? ""
            let style = attribute("data-placeholder", in: attributes).map {
                #" style="background-size:cover;background-image:url(\#($0))""#
            } ?? ""
            return #"<img src="\#(url(path, middle))" srcset="\#(srcset)" sizes="(min-width: 46rem) 44rem, 100vw" width="\#(width)" height="\#(height)" alt="\#(alt)"\#(title) loading="lazy" decoding="async"\#(style)>"#
        }
    }

    private static func replace(in html: String, _ transform: (_ path: String, _ attributes: String) -> String?) -> String {
        guard html.contains("<img src=\"/media/") else { return html }
        let source = html as NSString
        var result = ""
        var last = 0
        for match in mediaImage.matches(in: html, range: NSRange(location: 0, length: source.length)) {
            let path = decode(source.substring(with: match.range(at: 1)))
            guard let replacement = transform(path, source.substring(with: match.range(at: 2))) else { continue }
            result += source.substring(with: NSRange(location: last, length: match.range.location - last)) + replacement
            last = match.range.location + match.range.length
        }
        return result + source.substring(from: last)
    }

    /// An attribute's value as written (still escaped).
    private static func attribute(_ name: String, in attributes: String) -> String? {
        guard let range = attributes.range(of: #"\s\#(name)="([^"]*)""#, options: .regularExpression) else { return nil }
        let match = attributes[range]
        return String(match[match.index(match.firstIndex(of: "\"")!, offsetBy: 1)..<match.index(before: match.endIndex)])
    }

    private static func integer(_ name: String, in attributes: String) -> Int? {
        attribute(name, in: attributes).flatMap { Int($0) }
    }

    private static func decode(_ path: String) -> String {
        MarkdownRenderer.decodeEntities(path).removingPercentEncoding ?? path
    }

    private static func encode(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "\"<>"))) ?? path
    }
}
