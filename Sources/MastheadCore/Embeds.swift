import Foundation

/// Videos and posts from other sites in article bodies. A paragraph holding only a YouTube or
/// Vimeo video link, or a link to a post on X, becomes an inert placeholder that loads nothing
/// from that site (a button to allow embedded media, and a plain link); only for readers who
/// granted the `media` consent category is it swapped, when the page is served, for the player.
public enum Embeds {
    public struct Video: Sendable, Equatable {
        public var provider: String
        public var id: String

        /// The player address (YouTube's privacy-enhanced domain).
        public var playerURL: String {
            switch provider {
            case "youtube": "https://www.youtube-nocookie.com/embed/\(id)"
            case "x": "https://platform.twitter.com/embed/Tweet.html?id=\(id)&dnt=true"
            default: "https://player.vimeo.com/video/\(id)"
            }
        }

        public var watchURL: String {
            switch provider {
            case "youtube": "https://www.youtube.com/watch?v=\(id)"
            case "x": "https://x.com/i/status/\(id)"
            default: "https://vimeo.com/\(id)"
            }
        }

        public var providerName: String {
            switch provider {
            case "youtube": "YouTube"
            case "x": "X"
            default: "Vimeo"
            }
        }

        /// What is shown: a video, or a post on X.
        var noun: String { provider == "x" ? "post" : "video" }
    }

    /// The video a link points to, if it is a YouTube or Vimeo video or a post on X (Twitter).
    public static func video(at link: String) -> Video? {
        guard let url = URLComponents(string: link), let host = url.host?.lowercased(), url.scheme == "https" || url.scheme == "http" else { return nil }
        let id: String?
        let provider: String
        switch host {
        case "www.youtube.com", "youtube.com", "m.youtube.com":
            provider = "youtube"
            id = url.path == "/watch" ? url.queryItems?.first { $0.name == "v" }?.value : nil
        case "youtu.be":
            provider = "youtube"
            id = String(url.path.dropFirst())
        case "vimeo.com", "www.vimeo.com":
            provider = "vimeo"
            id = String(url.path.dropFirst())
        case "x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com":
            // https://x.com/<account>/status/<number>
            let parts = url.path.split(separator: "/")
            provider = "x"
            id = parts.count >= 3 && parts[parts.count - 2] == "status" ? String(parts[parts.count - 1]) : nil
        default:
            return nil
        }
        guard let id, !id.isEmpty, id.count <= 24 else { return nil }
        if provider == "youtube" {
            guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else { return nil }
        } else {
            guard id.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        return Video(provider: provider, id: id)
    }

    private static let linkParagraph = try! NSRegularExpression(pattern: #"<p><a href="([^"]+)">([^<]+)</a></p>"#)
    private static let placeholder = try! NSRegularExpression(
        pattern: #"<figure class="embed" data-consent="media" data-embed="(youtube|vimeo|x):([A-Za-z0-9_-]+)">.*?</figure>"#,
        options: [.dotMatchesLineSeparators])

    /// Turns paragraphs that are only a video (or X post) link into placeholders.
    public static func markPlaceholders(in html: String) -> String {
        replace(linkParagraph, in: html) { match in
            let href = MarkdownRenderer.decodeEntities(match[1])
            guard let video = video(at: href), MarkdownRenderer.decodeEntities(match[2]) == href else { return nil }
            return placeholderHTML(video)
        }
    }

    /// The placeholder: what the video is, why it is not shown, a button to allow it and a link.
    public static func placeholderHTML(_ video: Video) -> String {
        """
        <figure class="embed" data-consent="media" data-embed="\(video.provider):\(video.id)"><div class="embed__placeholder">\
        <p>This \(video.noun) is hosted by \(video.providerName). \(video.noun == "post" ? "Showing" : "Playing") it here lets \(video.providerName) see your visit and store cookies on your device, so it loads only if you allow embedded media.</p>\
        <form method="post" action="/consent/"><input type="hidden" name="choice" value="grant"><input type="hidden" name="category" value="media">\
        <button type="submit">Allow embedded media and show the \(video.noun)</button></form>\
        <p><a href="\(video.watchURL)">\(video.noun == "post" ? "Read" : "Watch") it on \(video.providerName)</a></p></div></figure>
        """
    }

    /// Swaps every placeholder for its player (for readers who allowed embedded media).
    public static func activate(_ html: String) -> String {
        guard html.contains(#"data-embed=""#) else { return html }
        return replace(placeholder, in: html) { match in
            let video = Video(provider: match[1], id: match[2])
            return """
                <figure class="embed embed--active"><iframe src="\(video.playerURL)" title="\(video.noun == "post" ? "Post on" : "Video from") \(video.providerName)" \
                width="560" height="\(video.noun == "post" ? 560 : 315)" loading="lazy" referrerpolicy="strict-origin-when-cross-origin" \
                allow="encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>\
                <figcaption><a href="\(video.watchURL)">\(video.noun == "post" ? "Read" : "Watch") on \(video.providerName)</a></figcaption></figure>
                """
        }
    }

    private static func replace(_ expression: NSRegularExpression, in text: String, with transform: ([String]) -> String?) -> String {
        let source = text as NSString
        var result = ""
        var last = 0
        for match in expression.matches(in: text, range: NSRange(location: 0, length: source.length)) {
            let groups = (0..<match.numberOfRanges).map { source.substring(with: match.range(at: $0)) }
            guard let replacement = transform(groups) else { continue }
            result += source.substring(with: NSRange(location: last, length: match.range.location - last)) + replacement
            last = match.range.location + match.range.length
        }
        return result + source.substring(from: last)
    }
}
