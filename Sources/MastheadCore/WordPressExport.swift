import Foundation

/// A WordPress export (WXR 1.0–1.2, the file Tools → Export writes), read item by item so that
/// exports of any size take bounded memory. Namespaces are recognised by what they are, whatever
/// their version or scheme (`http://wordpress.org/export/1.2/`, `https://…/1.1/`).
public enum WordPressExport {
    public struct Author: Sendable, Equatable {
        public var login: String
        public var displayName: String
    }

    /// A category or tag as the export's channel lists it.
    public struct Term: Sendable, Equatable {
        public var id: String
        public var slug: String
        public var name: String
        /// The parent category's slug, empty for none.
        public var parent: String
    }

    /// What the export says of the site before its items.
    public struct Channel: Sendable {
        public var title = ""
        /// `wp:base_site_url`, else the channel's `link`.
        public var siteURL = ""
        public var blogURL = ""
        public var authors: [String: Author] = [:]
        public var categories: [String: Term] = [:]
        public var tags: [String: Term] = [:]

        public init() {}

        /// The category whose term id is `id` (Yoast's primary category names it so).
        public func category(id: String) -> Term? { categories.values.first { $0.id == id } }
    }

    /// One `<item>`: a post, page, attachment or other WordPress object.
    public struct Item: Sendable {
        public var id = 0
        public var title = ""
        public var link = ""
        public var guid = ""
        /// The author's login (`dc:creator`).
        public var creator = ""
        public var content = ""
        public var excerpt = ""
        public var postDate = ""
        public var postDateGMT = ""
        public var modifiedGMT = ""
        /// The slug, percent-encoded for non-Latin ones.
        public var name = ""
        public var status = ""
        public var parent = 0
        public var menuOrder = 0
        public var type = ""
        public var password = ""
        public var attachmentURL = ""
        /// Categories and tags in the order written: (`category` or `post_tag`, slug, name).
        public var terms: [(domain: String, slug: String, name: String)] = []
        public var meta: [String: String] = [:]
        public var comments = 0
        /// The line of the item in the file, for messages.
        public var line = 0

        public init() {}
    }

    /// The name WXR elements are known by, whatever the prefix and version in the file.
    static func prefix(namespace: String, written: String) -> String {
        if namespace.contains("wordpress.org/export/") { return namespace.hasSuffix("excerpt/") ? "excerpt" : "wp" }
        if namespace.hasPrefix("http://purl.org/rss/1.0/modules/content") { return "content" }
        if namespace.hasPrefix("http://purl.org/dc/elements/1.1") { return "dc" }
        return written
    }

    /// Reads the export at `path`: the channel as it is known when each item arrives, and each
    /// item in order. Throws a ``MastheadError`` with the line when the file is not a WXR export.
    @discardableResult
    public static func read(_ path: String, item handle: (Item, Channel) throws -> Void) throws -> Channel {
        let reader = try Reader(path: path)
        while let item = try reader.next() { try handle(item, reader.channel) }
        return reader.channel
    }

    /// Reads an export item by item.
    public final class Reader {
        /// What the export said of the site so far (all of it, once the first item is read).
        public private(set) var channel = Channel()
        private let stream: XMLStream
        private let path: String
        private var stack: [String] = []
        private var sawRSS = false

        public init(path: String) throws {
            stream = try XMLStream(path: path, prefix: WordPressExport.prefix)
            self.path = path
        }

        /// The next item, or nil at the end of the file.
        public func next() throws -> Item? {
            var text = ""
            var item: Item?
            var term: [String: String] = [:]
            var meta: (key: String, value: String) = ("", "")
            var termAttributes: [String: String] = [:]
            while let event = try stream.next() {
                switch event {
                case .start(let name, let attributes, let empty):
                    if stack.isEmpty {
                        guard name == "rss" else {
                            throw MastheadError(
                                .invalidInput, "is not a WordPress export: it starts with <\(name)>, not <rss>",
                                location: .init(file: path, line: stream.line))
                        }
                        sawRSS = true
                    }
                    text = ""
                    if name == "item", stack.last == "channel" {
                        item = Item()
                        item?.line = stream.line
                    } else if item == nil, ["wp:author", "wp:category", "wp:tag", "wp:term"].contains(name) {
                        term = [:]
                    } else if item != nil {
                        switch name {
                        case "category": termAttributes = attributes
                        case "wp:postmeta": meta = ("", "")
                        case "wp:comment": item?.comments += 1
                        default: break
                        }
                    }
                    if !empty { stack.append(name) } else if item != nil, stack.last == "item" { assign(name, "", to: &item!) }
                case .text(let value):
                    text += value
                case .end(let name):
                    stack.removeLast()
                    let parent = stack.last ?? ""
                    if name == "item", let finished = item {
                        return finished
                    } else if item != nil {
                        switch name {
                        case "category" where parent == "item":
                            let domain = termAttributes["domain"] ?? "category"
                            item!.terms.append((domain, termAttributes["nicename"] ?? "", text.trimmingCharacters(in: .whitespacesAndNewlines)))
                        case "wp:meta_key" where parent == "wp:postmeta":
                            meta.key = text
                        case "wp:meta_value" where parent == "wp:postmeta":
                            meta.value = text
                        case "wp:postmeta" where parent == "item":
                            item!.meta[meta.key] = meta.value
                        default:
                            if parent == "item" { assign(name, text, to: &item!) }
                        }
                    } else {
                        readChannel(name, parent: parent, text: text, term: &term)
                    }
                    text = ""
                }
            }
            guard sawRSS else { throw MastheadError(.invalidInput, "is empty: no WordPress export in it", location: .init(file: path)) }
            return nil
        }

        private func readChannel(_ name: String, parent: String, text: String, term: inout [String: String]) {
            switch name {
            case "title" where parent == "channel": channel.title = text
            case "link" where parent == "channel": if channel.siteURL.isEmpty { channel.siteURL = text }
            case "wp:base_site_url": channel.siteURL = text
            case "wp:base_blog_url": channel.blogURL = text
            case "wp:author":
                let login = term["wp:author_login"] ?? ""
                channel.authors[login] = Author(login: login, displayName: term["wp:author_display_name"].flatMap { $0.isEmpty ? nil : $0 } ?? login)
            case "wp:category":
                let slug = term["wp:category_nicename"] ?? ""
                channel.categories[slug] = Term(
                    id: term["wp:term_id"] ?? "", slug: slug, name: term["wp:cat_name"] ?? slug, parent: term["wp:category_parent"] ?? "")
            case "wp:tag":
                let slug = term["wp:tag_slug"] ?? ""
                channel.tags[slug] = Term(id: term["wp:term_id"] ?? "", slug: slug, name: term["wp:tag_name"] ?? slug, parent: "")
            default:
                if ["wp:author", "wp:category", "wp:tag", "wp:term"].contains(parent) { term[name] = text }
            }
        }
    }

    static func assign(_ name: String, _ value: String, to item: inout Item) {
        switch name {
        case "title": item.title = value
        case "link": item.link = value.trimmingCharacters(in: .whitespacesAndNewlines)
        case "guid": item.guid = value.trimmingCharacters(in: .whitespacesAndNewlines)
        case "dc:creator": item.creator = value
        case "content:encoded": item.content = value
        case "excerpt:encoded": item.excerpt = value
        case "wp:post_id": item.id = Int(value.trimmingCharacters(in: .whitespaces)) ?? 0
        case "wp:post_date": item.postDate = value
        case "wp:post_date_gmt": item.postDateGMT = value
        case "wp:post_modified_gmt": item.modifiedGMT = value
        case "wp:post_name": item.name = value.trimmingCharacters(in: .whitespacesAndNewlines)
        case "wp:status": item.status = value.trimmingCharacters(in: .whitespaces)
        case "wp:post_parent": item.parent = Int(value.trimmingCharacters(in: .whitespaces)) ?? 0
        case "wp:menu_order": item.menuOrder = Int(value.trimmingCharacters(in: .whitespaces)) ?? 0
        case "wp:post_type": item.type = value.trimmingCharacters(in: .whitespaces)
        case "wp:post_password": item.password = value
        case "wp:attachment_url": item.attachmentURL = value.trimmingCharacters(in: .whitespacesAndNewlines)
        default: break
        }
    }

    /// A WordPress date (`2013-01-05 10:00:00`) in `zone`; nil for WordPress's empty date (`0000-00-00 00:00:00`).
    public static func date(_ text: String, in zone: TimeZone) -> Date? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" }).compactMap { Int($0) }
        guard parts.count >= 3, parts[0] > 0 else { return nil }
        var components = DateComponents()
        components.year = parts[0]
        components.month = parts[1]
        components.day = parts[2]
        components.hour = parts.count > 3 ? parts[3] : 0
        components.minute = parts.count > 4 ? parts[4] : 0
        components.second = parts.count > 5 ? parts[5] : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: components)
    }
}
