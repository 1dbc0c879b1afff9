import Foundation
import MastheadCore

/// A feed before it is written out: the same content for RSS 2.0, Atom 1.0 and JSON Feed 1.1.
struct FeedDocument: Sendable {
    struct Item: Sendable {
        var url: String
        var title: String
        var summary: String
        /// The whole article in HTML, when the site publishes full-text feeds.
        var contentHTML: String?
        var published: Date
        var updated: Date
        var authors: [(name: String, url: String)]
        var tags: [String]
        var image: (url: String, type: String, width: Int?, height: Int?)?
    }

    var title: String
    var description: String
    /// The HTML page the feed follows.
    var pageURL: String
    /// The feed's own address, in the format being written.
    var feedURL: String
    var language: String
    var items: [Item]

    /// The newest change of any item (or now for an empty feed).
    var updated: Date { items.map(\.updated).max() ?? Date(timeIntervalSince1970: 0) }

    // MARK: RSS 2.0 (with Atom self link, Dublin Core creators and Media RSS images)

    func rss() -> String {
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">
            <channel>
            <title>\(x(title))</title>
            <link>\(x(pageURL))</link>
            <description>\(x(description))</description>
            <language>\(x(language))</language>
            <atom:link href="\(x(feedURL))" rel="self" type="application/rss+xml"/>
            <lastBuildDate>\(Self.rfc822(updated))</lastBuildDate>

            """
        for item in items {
            xml += "<item>\n<title>\(x(item.title))</title>\n<link>\(x(item.url))</link>\n<guid isPermaLink=\"true\">\(x(item.url))</guid>\n"
            xml += "<pubDate>\(Self.rfc822(item.published))</pubDate>\n"
            for author in item.authors { xml += "<dc:creator>\(x(author.name))</dc:creator>\n" }
            for tag in item.tags { xml += "<category>\(x(tag))</category>\n" }
            xml += "<description>\(x(item.summary))</description>\n"
            if let content = item.contentHTML { xml += "<content:encoded>\(x(content))</content:encoded>\n" }
            if let image = item.image {
                xml += "<media:content url=\"\(x(image.url))\" medium=\"image\" type=\"\(x(image.type))\""
                if let width = image.width, let height = image.height { xml += " width=\"\(width)\" height=\"\(height)\"" }
                xml += "/>\n"
            }
            xml += "</item>\n"
        }
        return xml + "</channel>\n</rss>\n"
    }

    // MARK: Atom 1.0

    func atom(alternateTypes: [(type: String, url: String)] = []) -> String {
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="\(x(language))">
            <id>\(x(feedURL))</id>
            <title>\(x(title))</title>
            <subtitle>\(x(description))</subtitle>
            <link rel="self" type="application/atom+xml" href="\(x(feedURL))"/>
            <link rel="alternate" type="text/html" href="\(x(pageURL))"/>
            <updated>\(Self.rfc3339(updated))</updated>

            """
        for item in items {
            xml += "<entry>\n<id>\(x(item.url))</id>\n<title>\(x(item.title))</title>\n"
            xml += "<link rel=\"alternate\" type=\"text/html\" href=\"\(x(item.url))\"/>\n"
            xml += "<published>\(Self.rfc3339(item.published))</published>\n<updated>\(Self.rfc3339(item.updated))</updated>\n"
            for author in item.authors { xml += "<author><name>\(x(author.name))</name><uri>\(x(author.url))</uri></author>\n" }
            if item.authors.isEmpty { xml += "<author><name>\(x(title))</name></author>\n" }
            for tag in item.tags { xml += "<category term=\"\(x(tag))\"/>\n" }
            xml += "<summary type=\"text\">\(x(item.summary))</summary>\n"
            if let content = item.contentHTML { xml += "<content type=\"html\">\(x(content))</content>\n" }
            if let image = item.image { xml += "<link rel=\"enclosure\" type=\"\(x(image.type))\" href=\"\(x(image.url))\"/>\n" }
            xml += "</entry>\n"
        }
        return xml + "</feed>\n"
    }

    // MARK: JSON Feed 1.1

    func json() -> String {
        var feed: [String: Any] = [
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "home_page_url": pageURL,
            "feed_url": feedURL,
            "description": description,
            "language": language,
        ]
        feed["items"] = items.map { item -> [String: Any] in
            var entry: [String: Any] = [
                "id": item.url,
                "url": item.url,
                "title": item.title,
                "summary": item.summary,
                "date_published": Self.rfc3339(item.published),
                "date_modified": Self.rfc3339(item.updated),
                "authors": item.authors.map { ["name": $0.name, "url": $0.url] },
                "tags": item.tags,
            ]
            // JSON Feed requires content_html or content_text on every item.
            if let content = item.contentHTML { entry["content_html"] = content } else { entry["content_text"] = item.summary }
            if let image = item.image { entry["image"] = image.url }
            return entry
        }
        return JSONText.encode(feed)
    }

    // MARK: Helpers

    private func x(_ text: String) -> String { Self.escapeXML(text) }

    /// `text` safe inside XML character data and attributes (control characters XML forbids removed).
    private static let ampersand = Array("&amp;".utf8), lessThan = Array("&lt;".utf8), greaterThan = Array("&gt;".utf8)
    private static let quote = Array("&quot;".utf8), apostrophe = Array("&apos;".utf8)

    static func escapeXML(_ text: String) -> String {
        // Byte by byte over UTF-8: the five markup characters escaped, control characters XML
        // forbids dropped, U+FFFE and U+FFFF (EF BF BE, EF BF BF) dropped; all else copied.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            switch byte {
            case UInt8(ascii: "&"): bytes.append(contentsOf: Self.ampersand)
            case UInt8(ascii: "<"): bytes.append(contentsOf: Self.lessThan)
            case UInt8(ascii: ">"): bytes.append(contentsOf: Self.greaterThan)
            case UInt8(ascii: "\""): bytes.append(contentsOf: Self.quote)
            case UInt8(ascii: "'"): bytes.append(contentsOf: Self.apostrophe)
            case 0x09, 0x0A, 0x0D: bytes.append(byte)
            case 0..<0x20: break
            case 0xEF where index + 2 < utf8.count && utf8[index + 1] == 0xBF && (utf8[index + 2] == 0xBE || utf8[index + 2] == 0xBF):
                index += 2
            default: bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func rfc822(_ date: Date) -> String {
        DateText.http(date)
    }

    static func rfc3339(_ date: Date) -> String {
        DateText.iso8601(date)
    }
}
