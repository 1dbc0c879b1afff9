import Foundation
import MastheadCore
import SQLKit

/// Which published articles a list shows.
public struct ArticleFilter: Sendable, Equatable {
    public var sectionID: Int64?
    public var tagID: Int64?
    public var authorID: Int64?
    /// Leave this article out (the one being read, for "more in this section").
    public var excludingID: Int64?

    public init(sectionID: Int64? = nil, tagID: Int64? = nil, authorID: Int64? = nil, excludingID: Int64? = nil) {
        self.sectionID = sectionID
        self.tagID = tagID
        self.authorID = authorID
        self.excludingID = excludingID
    }
}

extension Store {
    // MARK: Articles

    /// The article with `slug`, published or not; nil when there is none.
    public func article(slug: String) async throws -> Article? {
        let rows = try await engine.reader.raw(Self.articleSelect() + " WHERE a.slug = \(bind: slug)").all()
        return try await articles(from: rows).first
    }

    /// Published articles matching `filter`, newest first, as readers may see them at `now`.
    /// Without `bodies` (a list of cards), `bodyHTML` is left empty and the bodies are never read.
    public func publishedArticles(_ filter: ArticleFilter = .init(), limit: Int, offset: Int = 0, now: Date = .now, bodies: Bool = true) async throws -> [Article] {
        try await articles(ids: try await publishedIDs(filter, limit: limit, offset: offset, now: now), bodies: bodies)
    }

    /// How many published articles match `filter` at `now`, counted in the list's own index.
    public func countPublishedArticles(_ filter: ArticleFilter = .init(), now: Date = .now) async throws -> Int {
        let query: SQLQueryString = "SELECT COUNT(*) AS n FROM (" + Self.listQuery(filter, now: now) + ") list"
        return try await engine.reader.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The ids of a list, newest first. A list of one section, tag or author (or of everything) is
    /// read from that list's index alone: page 500 skips index entries, never articles.
    func publishedIDs(_ filter: ArticleFilter, limit: Int, offset: Int = 0, now: Date) async throws -> [Int64] {
        let query = Self.listQuery(filter, now: now) + " LIMIT \(bind: limit) OFFSET \(bind: offset)"
        return try await engine.reader.raw(query).all().map { try $0.decode(column: "id", as: Int64.self) }
    }

    /// The ids (column `id`) of the published articles matching `filter`, in list order.
    static func listQuery(_ filter: ArticleFilter, now: Date) -> SQLQueryString {
        let time = now.epochSeconds
        func link(_ table: String, _ column: String, _ id: Int64) -> SQLQueryString {
            var query: SQLQueryString = """
                SELECT article_id AS id FROM \(unsafeRaw: table)
                WHERE \(unsafeRaw: column) = \(bind: id) AND listed_at IS NOT NULL AND listed_at <= \(bind: time)
                """
            if let excluded = filter.excludingID { query += " AND article_id <> \(bind: excluded)" }
            return query + " ORDER BY listed_at DESC, article_id DESC"
        }
        switch (filter.sectionID, filter.tagID, filter.authorID) {
        case (nil, let tag?, nil): return link("article_tag", "tag_id", tag)
        case (nil, nil, let author?): return link("article_author", "author_id", author)
        default: return "SELECT a.id FROM article a" + publishedWhere(filter, now: now) + " ORDER BY a.published_at DESC, a.id DESC"
        }
    }

    /// The newest `limit` published articles of each of `sectionIDs` (leaving out `excludingID`),
    /// in two queries whatever the number of sections: the home page's blocks.
    public func newestBySection(_ sectionIDs: [Int64], limit: Int, excludingID: Int64? = nil, now: Date = .now) async throws -> [Int64: [Article]] {
        guard !sectionIDs.isEmpty else { return [:] }
        var query: SQLQueryString = ""
        for (index, sectionID) in sectionIDs.enumerated() {
            if index > 0 { query += " UNION ALL " }
            query += "SELECT * FROM (SELECT a.id, a.section_id FROM article a"
                + Self.publishedWhere(.init(sectionID: sectionID, excludingID: excludingID), now: now)
                + " ORDER BY a.published_at DESC, a.id DESC LIMIT \(bind: limit)) AS newest\(unsafeRaw: String(index))"
        }
        let rows = try await engine.reader.raw(query).all()
        let pairs = try rows.map { (try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "section_id", as: Int64.self)) }
        let articles = Dictionary(uniqueKeysWithValues: try await self.articles(ids: pairs.map(\.0), bodies: false).map { ($0.id, $0) })
        var blocks: [Int64: [Article]] = [:]
        for (id, sectionID) in pairs { if let article = articles[id] { blocks[sectionID, default: []].append(article) } }
        return blocks
    }

    /// The articles with `ids`, in that order (those that no longer exist left out); without
    /// `bodies`, as cards: `bodyHTML` empty, and the bodies (most of an article's bytes) not read.
    func articles(ids: [Int64], bodies: Bool = true) async throws -> [Article] {
        guard !ids.isEmpty else { return [] }
        let rows = try await engine.reader.raw(Self.articleSelect(bodies: bodies) + " WHERE a.id IN (\(binds: ids))").all()
        let byID = Dictionary(uniqueKeysWithValues: try await articles(from: rows).map { ($0.id, $0) })
        return ids.compactMap { byID[$0] }
    }

    /// Articles related to `article`: those sharing most tags first, then those of its section,
    /// newest first; then stories with the rarer words of its headline; then the newest of its section.
    /// Candidates come from the newest stories of each of its first eight tags, read from the tags'
    /// indexes, so the cost does not grow with the site or with how common a tag is.
    public func relatedArticles(to article: Article, limit: Int, now: Date = .now) async throws -> [Article] {
        var ids: [Int64] = []
        let tagIDs = article.tags.prefix(8).map(\.id)
        if !tagIDs.isEmpty {
            let perTag = max(limit * 4, 16)
            var candidates: SQLQueryString = ""
            for (index, tagID) in tagIDs.enumerated() {
                if index > 0 { candidates += " UNION ALL " }
                candidates += "SELECT * FROM (" + Self.listQuery(.init(tagID: tagID, excludingID: article.id), now: now)
                    + " LIMIT \(bind: perTag)) AS tagged\(unsafeRaw: String(index))"
            }
            let query: SQLQueryString = """
                SELECT c.id, COUNT(*) AS shared FROM (
                """ + candidates + """
                ) c JOIN article a ON a.id = c.id
                GROUP BY c.id, a.section_id, a.published_at
                ORDER BY shared DESC, (a.section_id = \(bind: article.section.id)) DESC, a.published_at DESC, c.id DESC
                LIMIT \(bind: limit)
                """
            ids = try await engine.reader.raw(query).all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        if ids.count < limit, let match = try await engine.reader.searchIndex.tellingWordsQuery(engine.reader, text: article.title) {
            let (found, _) = try await engine.reader.searchIndex.search(
                engine.reader, match: match, where: Self.publishedCondition(.init(excludingID: article.id), now: now),
                limit: limit, offset: 0, snippets: false, counted: false)
            for (id, _) in found where ids.count < limit && !ids.contains(id) { ids.append(id) }
        }
        if ids.count < limit {
            let sameSection = try await publishedIDs(.init(sectionID: article.section.id, excludingID: article.id), limit: limit * 2, now: now)
            for id in sameSection where ids.count < limit && !ids.contains(id) { ids.append(id) }
        }
        return try await articles(ids: ids, bodies: false)
    }

    /// The earliest publication time after `now` (an article dated in the future), if any.
    /// Page caches expire then, so the story appears on time.
    public func nextPublicationTime(after now: Date = .now) async throws -> Date? {
        let row = try await engine.reader.raw(
            "SELECT MIN(published_at) AS next FROM article WHERE status = 'published' AND published_at > \(bind: now.epochSeconds)"
        ).first()
        return try row?.decode(column: "next", as: Int64?.self).map(Date.init(epochSeconds:))
    }

    /// Whether the site has no articles at all.
    public func isEmpty() async throws -> Bool {
        try await engine.reader.raw("SELECT id FROM article LIMIT 1").first() == nil
    }

    // MARK: Sections, tags, authors, pages

    /// All sections in navigation order.
    public func sections() async throws -> [Section] {
        try await engine.reader.raw("SELECT id, slug, name FROM section ORDER BY position, id").all().map(Self.section)
    }

    public func section(slug: String) async throws -> Section? {
        try await engine.reader.raw("SELECT id, slug, name FROM section WHERE slug = \(bind: slug)").first().map(Self.section)
    }

    public func tag(slug: String) async throws -> Tag? {
        try await engine.reader.raw("SELECT id, slug, name FROM tag WHERE slug = \(bind: slug)").first().map(Self.tag)
    }

    /// The tag at `slug` as readers may see it: only while a published article carries it, so
    /// tags that only drafts and scheduled stories use (embargoed topics) do not exist publicly.
    public func publicTag(slug: String, now: Date = .now) async throws -> Tag? {
        try await engine.reader.raw("""
            SELECT g.id, g.slug, g.name FROM tag g WHERE g.slug = \(bind: slug) AND EXISTS (
              SELECT 1 FROM article_tag t WHERE t.tag_id = g.id AND t.listed_at IS NOT NULL AND t.listed_at <= \(bind: now.epochSeconds))
            """).first().map(Self.tag)
    }

    /// The author profile at `slug` as readers may see it: only with a published article, so the
    /// staff list and bylines of unpublished stories stay private.
    public func publicAuthor(slug: String, now: Date = .now) async throws -> Author? {
        try await engine.reader.raw("""
            SELECT u.id, u.slug, u.name, u.title, u.bio_html FROM author u WHERE u.slug = \(bind: slug) AND EXISTS (
              SELECT 1 FROM article_author w WHERE w.author_id = u.id AND w.listed_at IS NOT NULL AND w.listed_at <= \(bind: now.epochSeconds))
            """).first().map(Self.author)
    }

    public func author(slug: String) async throws -> Author? {
        try await engine.reader.raw("SELECT id, slug, name, title, bio_html FROM author WHERE slug = \(bind: slug)").first().map(Self.author)
    }

    public func page(slug: String) async throws -> Page? {
        guard let row = try await engine.reader.raw(
            "SELECT slug, title, summary, body_html, modified_at FROM page WHERE slug = \(bind: slug)"
        ).first() else { return nil }
        return Page(
            slug: try row.decode(column: "slug", as: String.self),
            title: try row.decode(column: "title", as: String.self),
            summary: try row.decode(column: "summary", as: String.self),
            bodyHTML: try row.decode(column: "body_html", as: String.self),
            modifiedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)))
    }

    /// Where an address the site had before it moved here leads now: an article's current
    /// address (only while it is public), or a fixed one. `path` as ``legacyKey(path:query:)`` makes it.
    public func legacyAddress(_ path: String, now: Date = .now) async throws -> String? {
        guard let row = try await engine.reader.raw("""
            SELECT l.target, a.slug, a.status, a.published_at, s.slug AS section_slug FROM legacy_address l
            LEFT JOIN article a ON a.id = l.article_id LEFT JOIN section s ON s.id = a.section_id
            WHERE l.path = \(bind: path)
            """).first() else { return nil }
        if let slug = try row.decode(column: "slug", as: String?.self) {
            guard try row.decode(column: "status", as: String?.self) == ArticleStatus.published.rawValue,
                  try row.decode(column: "published_at", as: Int64?.self) ?? .max <= now.epochSeconds,
                  let section = try row.decode(column: "section_slug", as: String?.self)
            else { return nil }
            return "/\(section)/\(slug)/"
        }
        return try row.decode(column: "target", as: String?.self)
    }

    /// The key an old address is kept under: its path decoded, lowercased and ending in `/`; on
    /// the home page, WordPress's `?p=ID` and `?page_id=ID` instead.
    public static func legacyKey(path: String, query: String?) -> String {
        if path == "/" || path == "/index.php", let query {
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, ["p", "page_id"].contains(parts[0]), Int(parts[1]) != nil else { continue }
                return "/?\(parts[0])=\(parts[1])"
            }
        }
        var key = (path.removingPercentEncoding ?? path).lowercased()
        if !key.hasSuffix("/") { key += "/" }
        return key
    }

    // MARK: Row mapping

    /// The columns ``articles(from:)`` reads; `body_html` only with `bodies`.
    static func articleSelect(bodies: Bool = true) -> SQLQueryString {
        """
        SELECT a.id, a.slug, a.title, a.summary, a.status, a.published_at, a.updated_at,
               a.image_source, a.image_alt, a.image_caption, a.image_credit, a.image_width, a.image_height, a.image_placeholder,
               a.disclaimer, a.modified_at, a.seo_title, a.seo_description, a.canonical_url, s.id AS section_id, s.slug AS section_slug, s.name AS section_name
        """ + (bodies ? ", a.body_html" : "") + " FROM article a JOIN section s ON s.id = a.section_id"
    }

    static func publishedWhere(_ filter: ArticleFilter, now: Date) -> SQLQueryString {
        " WHERE " + publishedCondition(filter, now: now)
    }

    /// The condition (without `WHERE`) for published articles matching `filter` at `now`.
    static func publishedCondition(_ filter: ArticleFilter, now: Date) -> SQLQueryString {
        var query: SQLQueryString = "a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)"
        if let id = filter.sectionID { query += " AND a.section_id = \(bind: id)" }
        if let id = filter.tagID { query += " AND EXISTS (SELECT 1 FROM article_tag t WHERE t.article_id = a.id AND t.tag_id = \(bind: id))" }
        if let id = filter.authorID { query += " AND EXISTS (SELECT 1 FROM article_author w WHERE w.article_id = a.id AND w.author_id = \(bind: id))" }
        if let id = filter.excludingID { query += " AND a.id <> \(bind: id)" }
        return query
    }

    /// Articles for `rows` of ``articleSelect``, with their authors, tags and corrections (one query for all).
    func articles(from rows: [any SQLRow]) async throws -> [Article] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
        var authors: [Int64: [Author]] = [:]
        var tags: [Int64: [Tag]] = [:]
        var corrections: [Int64: [Correction]] = [:]
        for row in try await engine.reader.raw("""
            SELECT 'a' AS kind, w.article_id, u.id, u.slug, u.name, u.title AS note, u.bio_html AS body, w.position AS rank, 0 AS created_at
              FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id IN (\(binds: ids))
            UNION ALL
            SELECT 't', t.article_id, g.id, g.slug, g.name, '', '', t.position, 0
              FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id IN (\(binds: ids))
            UNION ALL
            SELECT 'c', c.article_id, c.id, '', '', c.kind, c.body, c.created_at, c.created_at
              FROM correction c WHERE c.article_id IN (\(binds: ids))
            ORDER BY 1, 2, 8, 3
            """).all() {
            let articleID = try row.decode(column: "article_id", as: Int64.self)
            let id = try row.decode(column: "id", as: Int64.self)
            switch try row.decode(column: "kind", as: String.self) {
            case "a":
                authors[articleID, default: []].append(Author(
                    id: id, slug: try row.decode(column: "slug", as: String.self), name: try row.decode(column: "name", as: String.self),
                    title: try row.decode(column: "note", as: String.self), bioHTML: try row.decode(column: "body", as: String.self)))
            case "t":
                tags[articleID, default: []].append(Tag(
                    id: id, slug: try row.decode(column: "slug", as: String.self), name: try row.decode(column: "name", as: String.self)))
            default:
                corrections[articleID, default: []].append(Correction(
                    id: id, kind: Correction.Kind(rawValue: try row.decode(column: "note", as: String.self)) ?? .correction,
                    text: try row.decode(column: "body", as: String.self),
                    createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self))))
            }
        }
        return try rows.map { row in
            let id = try row.decode(column: "id", as: Int64.self)
            let image = try row.decode(column: "image_source", as: String?.self).map { source in
                FeaturedImage(
                    source: source,
                    alt: try row.decode(column: "image_alt", as: String.self),
                    caption: try row.decode(column: "image_caption", as: String.self),
                    credit: try row.decode(column: "image_credit", as: String.self),
                    width: try row.decode(column: "image_width", as: Int?.self),
                    height: try row.decode(column: "image_height", as: Int?.self),
                    placeholder: try row.decode(column: "image_placeholder", as: String?.self))
            }
            var article = Article(
                id: id,
                slug: try row.decode(column: "slug", as: String.self),
                title: try row.decode(column: "title", as: String.self),
                summary: try row.decode(column: "summary", as: String.self),
                bodyHTML: row.contains(column: "body_html") ? try row.decode(column: "body_html", as: String.self) : "",
                section: Section(
                    id: try row.decode(column: "section_id", as: Int64.self),
                    slug: try row.decode(column: "section_slug", as: String.self),
                    name: try row.decode(column: "section_name", as: String.self)),
                authors: authors[id] ?? [],
                tags: tags[id] ?? [],
                status: ArticleStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
                publishedAt: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self)),
                updatedAt: try row.decode(column: "updated_at", as: Int64?.self).map(Date.init(epochSeconds:)),
                image: image,
                disclaimer: try row.decode(column: "disclaimer", as: Int.self) != 0,
                corrections: corrections[id] ?? [],
                modifiedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)))
            article.seoTitle = try row.decode(column: "seo_title", as: String.self)
            article.seoDescription = try row.decode(column: "seo_description", as: String.self)
            article.canonicalURL = try row.decode(column: "canonical_url", as: String.self)
            return article
        }
    }

    static func section(_ row: any SQLRow) throws -> Section {
        Section(id: try row.decode(column: "id", as: Int64.self), slug: try row.decode(column: "slug", as: String.self), name: try row.decode(column: "name", as: String.self))
    }

    static func tag(_ row: any SQLRow) throws -> Tag {
        Tag(id: try row.decode(column: "id", as: Int64.self), slug: try row.decode(column: "slug", as: String.self), name: try row.decode(column: "name", as: String.self))
    }

    static func author(_ row: any SQLRow) throws -> Author {
        Author(
            id: try row.decode(column: "id", as: Int64.self), slug: try row.decode(column: "slug", as: String.self),
            name: try row.decode(column: "name", as: String.self), title: try row.decode(column: "title", as: String.self),
            bioHTML: try row.decode(column: "bio_html", as: String.self))
    }
}
