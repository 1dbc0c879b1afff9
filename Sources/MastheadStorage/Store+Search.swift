import Foundation
import MastheadCore
import SQLKit

/// What a reader searches for: words, and optionally a section, tag, author and date range.
public struct SearchQuery: Sendable, Equatable {
    public var text: String
    public var sectionSlug: String?
    public var tagSlug: String?
    public var authorSlug: String?
    public var from: Date?
    public var until: Date?

    public init(text: String, sectionSlug: String? = nil, tagSlug: String? = nil, authorSlug: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.text = text
        self.sectionSlug = sectionSlug
        self.tagSlug = tagSlug
        self.authorSlug = authorSlug
        self.from = from
        self.until = until
    }
}

/// One search result: the article and a snippet of its text with the matching words marked.
public struct SearchHit: Sendable {
    public var article: Article
    /// The snippet as HTML: escaped text with matches in `<mark>`.
    public var snippetHTML: String
}

extension Store {
    /// Published articles matching `query`, best match first (newest first for words in thousands
    /// of articles), and how many match in all (counted up to 10,000). Without `bodies` the hits'
    /// `bodyHTML` is empty (a page of result cards has no use for it).
    public func search(_ query: SearchQuery, limit: Int, offset: Int = 0, now: Date = .now, bodies: Bool = true) async throws -> (hits: [SearchHit], total: Int) {
        let reader = engine.reader
        let search = reader.searchIndex
        guard let plan = try await search.plan(reader, text: query.text) else { return ([], 0) }
        var filter: SQLQueryString = "a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)"
        if let slug = query.sectionSlug { filter += " AND a.section_id IN (SELECT id FROM section WHERE slug = \(bind: slug))" }
        if let slug = query.tagSlug {
            filter += " AND EXISTS (SELECT 1 FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id = a.id AND g.slug = \(bind: slug))"
        }
        if let slug = query.authorSlug {
            filter += " AND EXISTS (SELECT 1 FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id = a.id AND u.slug = \(bind: slug))"
        }
        if let from = query.from { filter += " AND a.published_at >= \(bind: from.epochSeconds)" }
        if let until = query.until { filter += " AND a.published_at < \(bind: until.epochSeconds)" }
        let (ids, total) = try await search.search(
            reader, match: plan.match, where: filter, limit: limit, offset: offset, ranked: plan.ranked)
        guard !ids.isEmpty else { return ([], total) }
        let articles = Dictionary(uniqueKeysWithValues: try await articles(ids: ids.map(\.0), bodies: bodies).map { ($0.id, $0) })
        let hits = ids.compactMap { id, snippet in
            articles[id].map { SearchHit(article: $0, snippetHTML: Self.markHighlights(snippet)) }
        }
        return (hits, total)
    }

    static func markHighlights(_ snippet: String) -> String {
        MarkdownRenderer.escapeHTML(snippet)
            .replacingOccurrences(of: SearchText.highlightStart, with: "<mark>")
            .replacingOccurrences(of: SearchText.highlightEnd, with: "</mark>")
    }
}
