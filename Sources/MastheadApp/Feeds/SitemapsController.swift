import Foundation
import Hummingbird
import MastheadCore
import MastheadStorage

/// `robots.txt`, the sitemap index at `/sitemap.xml` and the sitemaps it lists: articles by month
/// (split before 50,000 addresses), sections, tags, authors, pages, and a Google News sitemap of
/// the last 48 hours.
struct SitemapsController: Sendable {
    let store: Store
    let settings: LiveSiteSettings
    var site: SiteSettings { settings.current }
    let cache: PageCache
    /// Most addresses in one sitemap (the protocol's limit is 50,000).
    let maxURLs: Int

    func addRoutes(to router: Router<some RequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/robots.txt", method: method) { request, _ in
                try await cached(request, type: "text/plain; charset=utf-8") {
                    "User-agent: *\nDisallow: /admin/\nDisallow: /api/\n\nSitemap: \(site.absoluteURL("/sitemap.xml"))\n"
                }
            }
            router.on("/sitemap.xml", method: method) { request, _ in
                try await cached(request, type: "application/xml; charset=utf-8") { try await index() }
            }
            router.on("/sitemaps/:name", method: method) { request, context in
                let name = try context.parameters.require("name")
                return try await cached(request, type: "application/xml; charset=utf-8") { try await sitemap(named: name) }
            }
        }
    }

    private func cached(_ request: Request, type: String, render: () async throws -> String) async throws -> Response {
        try await cache.respond(to: request, contentType: type, cacheControl: "public, max-age=300", render: render)
    }

    // MARK: Index

    private func index() async throws -> String {
        let months = try await store.publishedMonths()
        let listings = try await store.listingSummary()
        let pages = try await store.pageStamps()
        var entries: [(String, Date?)] = []
        for month in months {
            for part in 0..<max(1, (month.count + maxURLs - 1) / maxURLs) {
                entries.append((Self.name("articles-\(month.month)", part), month.lastModified))
            }
        }
        entries.append(("news.xml", months.first?.lastModified))
        if !listings.sections.isEmpty { entries.append(("sections.xml", listings.sections.map(\.lastModified).max())) }
        // One file of tags (or authors) takes the newest publication among them; past one file, each
        // file's newest is read from the full list (a site with more than `maxURLs` tags is rare).
        let full = listings.tags.count > maxURLs || listings.authors.count > maxURLs ? try await store.listingStamps() : nil
        for (stem, summary, all) in [("tags", listings.tags, full?.tags), ("authors", listings.authors, full?.authors)] where summary.count > 0 {
            if let all {
                for (index, chunk) in all.chunked(maxURLs).enumerated() { entries.append((Self.name(stem, index), chunk.map(\.lastModified).max())) }
            } else {
                entries.append((Self.name(stem, 0), summary.lastModified))
            }
        }
        if !pages.isEmpty { entries.append(("pages.xml", pages.map(\.lastModified).max())) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        for (name, lastModified) in entries {
            xml += "<sitemap><loc>\(FeedDocument.escapeXML(site.absoluteURL("/sitemaps/" + name)))</loc>"
            if let lastModified { xml += "<lastmod>\(FeedDocument.rfc3339(lastModified))</lastmod>" }
            xml += "</sitemap>\n"
        }
        return xml + "</sitemapindex>\n"
    }

    /// The articles of one monthly sitemap (`articles-2026-11.xml`, or its part `articles-2026-11-2.xml`
    /// when the month has more than `maxURLs`); nil when there is no such sitemap.
    private func articleChunk(named name: String) async throws -> [ArticleStamp]? {
        let stem = name.dropFirst("articles-".count).dropLast(".xml".count)
        let fields = stem.split(separator: "-")
        guard fields.count == 2 || fields.count == 3, let part = fields.count == 3 ? Int(fields[2]) : 1, part >= 2 || fields.count == 2,
              let month = try await store.publishedMonths().first(where: { $0.month == "\(fields[0])-\(fields[1])" }) else { return nil }
        let chunks = try await store.publishedStamps(from: month.start, until: month.end).chunked(maxURLs)
        return chunks.indices.contains(part - 1) ? chunks[part - 1] : nil
    }

    private static func name(_ stem: String, _ index: Int) -> String {
        index == 0 ? "\(stem).xml" : "\(stem)-\(index + 1).xml"
    }

    // MARK: Sitemaps

    private func sitemap(named name: String) async throws -> String {
        if name == "news.xml" { return try await news() }
        var urls: [(String, Date)] = []
        if name.hasPrefix("articles-") {
            guard let chunk = try await articleChunk(named: name) else { throw HTTPError(.notFound) }
            urls = chunk.map { ($0.path, $0.modifiedAt) }
        } else if name == "sections.xml" {
            urls = try await store.listingStamps().sections.map { ($0.path, $0.lastModified) }
        } else if name.hasPrefix("tags") || name.hasPrefix("authors") {
            let listings = try await store.listingStamps()
            let all = name.hasPrefix("tags") ? listings.tags : listings.authors
            let stem = name.hasPrefix("tags") ? "tags" : "authors"
            guard let chunk = all.chunked(maxURLs).enumerated().first(where: { Self.name(stem, $0.offset) == name })?.element else { throw HTTPError(.notFound) }
            urls = chunk.map { ($0.path, $0.lastModified) }
        } else if name == "pages.xml" {
            urls = [("/", try await store.publishedMonths().first?.lastModified ?? .now)] + (try await store.pageStamps().map { ($0.path, $0.lastModified) })
        } else {
            throw HTTPError(.notFound)
        }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        for (path, lastModified) in urls {
            xml += "<url><loc>\(FeedDocument.escapeXML(site.absoluteURL(path)))</loc><lastmod>\(FeedDocument.rfc3339(lastModified))</lastmod></url>\n"
        }
        return xml + "</urlset>\n"
    }

    /// Google News: articles published in the last 48 hours.
    private func news() async throws -> String {
        let cutoff = Date.now.addingTimeInterval(-48 * 3600)
        let recent = try await store.publishedStamps(from: cutoff)
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">

            """
        let language = site.language.split(separator: "-").first.map(String.init) ?? "en"
        for article in recent {
            xml += """
                <url><loc>\(FeedDocument.escapeXML(site.absoluteURL(article.path)))</loc><news:news><news:publication><news:name>\(FeedDocument.escapeXML(site.title))</news:name><news:language>\(FeedDocument.escapeXML(language))</news:language></news:publication><news:publication_date>\(FeedDocument.rfc3339(article.publishedAt))</news:publication_date><news:title>\(FeedDocument.escapeXML(article.title))</news:title></news:news></url>

                """
        }
        return xml + "</urlset>\n"
    }
}

extension Array {
    /// The array in consecutive pieces of at most `size` elements (one empty piece for an empty array).
    func chunked(_ size: Int) -> [[Element]] {
        guard !isEmpty else { return [] }
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
