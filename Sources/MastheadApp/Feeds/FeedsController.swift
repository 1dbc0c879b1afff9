import Foundation
import Hummingbird
import MastheadCore
import MastheadImaging
import MastheadStorage

/// RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the whole site, each section, tag and author:
/// `<list>/feed/`, `<list>/feed/atom/`, `<list>/feed/json/` (`/feed/` for the site).
struct FeedsController: Sendable {
    enum Format: String, CaseIterable {
        case rss, atom, json

        var contentType: String {
            switch self {
            case .rss: "application/rss+xml; charset=utf-8"
            case .atom: "application/atom+xml; charset=utf-8"
            case .json: "application/feed+json; charset=utf-8"
            }
        }

        /// The feed's address under a list's address.
        func path(under base: String) -> String {
            switch self {
            case .rss: base + "feed/"
            case .atom: base + "feed/atom/"
            case .json: base + "feed/json/"
            }
        }
    }

    let store: Store
    let settings: LiveSiteSettings
    var site: SiteSettings { settings.current }
    let signer: ImageSigner
    let cache: PageCache
    let fullText: Bool
    static let itemCount = 50

    func addRoutes(to router: Router<some RequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            for format in Format.allCases {
                let suffix = format == .rss ? "feed" : "feed/\(format.rawValue)"
                router.on(RouterPath("/\(suffix)"), method: method) { request, _ in
                    try await feed(request, format: format, list: .site)
                }
                router.on(RouterPath("/tag/:slug/\(suffix)"), method: method) { request, context in
                    try await feed(request, format: format, list: .tag(try context.parameters.require("slug")))
                }
                router.on(RouterPath("/author/:slug/\(suffix)"), method: method) { request, context in
                    try await feed(request, format: format, list: .author(try context.parameters.require("slug")))
                }
                router.on(RouterPath("/:section/\(suffix)"), method: method) { request, context in
                    try await feed(request, format: format, list: .section(try context.parameters.require("section")))
                }
            }
        }
    }

    enum List {
        case site
        case section(String)
        case tag(String)
        case author(String)
    }

    private func feed(_ request: Request, format: Format, list: List) async throws -> Response {
        guard request.uri.path.hasSuffix("/") else {
            return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/"])
        }
        return try await cache.respond(to: request, contentType: format.contentType, cacheControl: "public, max-age=300") {
            let document = try await document(for: list, format: format)
            return switch format {
            case .rss: document.rss()
            case .atom: document.atom()
            case .json: document.json()
            }
        }
    }

    private func document(for list: List, format: Format) async throws -> FeedDocument {
        let (title, description, basePath, filter): (String, String, String, ArticleFilter)
        switch list {
        case .site:
            (title, description, basePath, filter) = (site.title, site.tagline, "/", ArticleFilter())
        case .section(let slug):
            guard !ReservedPaths.segments.contains(slug), let section = try await store.section(slug: slug) else { throw HTTPError(.notFound) }
            (title, description, basePath, filter) = ("\(section.name) – \(site.title)", "The latest \(section.name) news from \(site.title).", section.path, ArticleFilter(sectionID: section.id))
        case .tag(let slug):
            guard let tag = try await store.publicTag(slug: slug) else { throw HTTPError(.notFound) }
            (title, description, basePath, filter) = ("\(tag.name) – \(site.title)", "Stories tagged \(tag.name) from \(site.title).", tag.path, ArticleFilter(tagID: tag.id))
        case .author(let slug):
            guard let author = try await store.publicAuthor(slug: slug) else { throw HTTPError(.notFound) }
            (title, description, basePath, filter) = ("\(author.name) – \(site.title)", "Stories by \(author.name) for \(site.title).", author.path, ArticleFilter(authorID: author.id))
        }
        let articles = try await store.publishedArticles(filter, limit: Self.itemCount)
        return FeedDocument(
            title: title,
            description: description,
            pageURL: site.absoluteURL(basePath),
            feedURL: site.absoluteURL(format.path(under: basePath)),
            language: site.language,
            items: articles.map(item))
    }

    private func item(_ article: Article) -> FeedDocument.Item {
        let summary = article.summary.isEmpty ? String(MarkdownRenderer.plainText(fromHTML: article.bodyHTML).prefix(300)) : article.summary
        var content = article.bodyHTML
        if !article.corrections.isEmpty {
            content += article.corrections.map { "<p><strong>\($0.kind == .correction ? "Correction" : "Update"):</strong> \(MarkdownRenderer.escapeHTML($0.text))</p>" }.joined()
        }
        let image = article.image.map { image -> (url: String, type: String, width: Int?, height: Int?) in
            guard image.isStored else { return (image.url, "image/jpeg", image.width, image.height) }
            let url = site.absoluteURL(signer.url(path: image.source, variant: ImageVariant(width: 1280)))
            let type = image.source.lowercased().hasSuffix(".png") ? "image/png" : "image/jpeg"
            let scaled = image.width.flatMap { width in image.height.map { height in width > 1280 ? (1280, height * 1280 / width) : (width, height) } }
            return (url, type, scaled?.0, scaled?.1)
        }
        return FeedDocument.Item(
            url: site.absoluteURL(article.path),
            title: article.title,
            summary: summary,
            contentHTML: fullText ? Self.absolutize(content, base: site.baseURL) : nil,
            published: article.publishedAt,
            updated: max(article.updatedAt ?? article.publishedAt, article.publishedAt),
            authors: article.authors.map { ($0.name, site.absoluteURL($0.path)) },
            tags: article.tags.map(\.name),
            image: image)
    }

    /// Feed readers show content away from the site: make the site's own links absolute
    /// (`src="/…"`, `href="/…"`, `srcset="/…"` and the further `/img/` candidates of a srcset),
    /// in one pass over the bytes. Protocol-relative addresses (`//host/…`) are left alone.
    static func absolutize(_ html: String, base: String) -> String {
        let baseBytes = Array(base.utf8)
        let bytes = Array(html.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16 * baseBytes.count)
        func ends(_ suffix: StaticString, before end: Int) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard end >= count else { return false }
            return suffix.withUTF8Buffer { suffix in (0..<count).allSatisfy { bytes[end - count + $0] == suffix[$0] } }
        }
        let slash = UInt8(ascii: "/")
        for index in bytes.indices {
            let byte = bytes[index]
            if byte == slash, index >= 2, index + 1 == bytes.count || bytes[index + 1] != slash {
                let before = bytes[index - 1]
                if before == UInt8(ascii: "\""), ends("src=", before: index - 1) || ends("href=", before: index - 1) || ends("srcset=", before: index - 1) {
                    output.append(contentsOf: baseBytes)
                } else if before == UInt8(ascii: " "), bytes[index - 2] == UInt8(ascii: ","), index + 5 <= bytes.count,
                          bytes[index + 1] == UInt8(ascii: "i"), bytes[index + 2] == UInt8(ascii: "m"), bytes[index + 3] == UInt8(ascii: "g"),
                          bytes[index + 4] == slash {
                    output.append(contentsOf: baseBytes)
                }
            }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }
}
