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
        let rows = try await engine.reader.raw(Self.articleSelect + " WHERE a.slug = \(bind: slug)").all()
        return try await articles(from: rows).first
    }

    /// Published articles matching `filter`, newest first, as readers may see them at `now`.
    public func publishedArticles(_ filter: ArticleFilter = .init(), limit: Int, offset: Int = 0, now: Date = .now) async throws -> [Article] {
        let query = Self.articleSelect + Self.publishedWhere(filter, now: now)
            + " ORDER BY a.published_at DESC, a.id DESC LIMIT \(bind: limit) OFFSET \(bind: offset)"
        return try await articles(from: try await engine.reader.raw(query).all())
    }

    /// How many published articles match `filter` at `now`.
    public func countPublishedArticles(_ filter: ArticleFilter = .init(), now: Date = .now) async throws -> Int {
        let query: SQLQueryString = "SELECT COUNT(*) AS n FROM article a" + Self.publishedWhere(filter, now: now)
        return try await engine.reader.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Articles related to `article`: those sharing most tags first, then the newest of its section.
    public func relatedArticles(to article: Article, limit: Int, now: Date = .now) async throws -> [Article] {
        let tagIDs = article.tags.map(\.id)
        var related: [Article] = []
        if !tagIDs.isEmpty {
            let query = Self.articleSelect
                + " JOIN (SELECT article_id, COUNT(*) AS shared FROM article_tag WHERE tag_id IN (\(binds: tagIDs)) GROUP BY article_id) m ON m.article_id = a.id"
                + Self.publishedWhere(.init(excludingID: article.id), now: now)
                + " ORDER BY m.shared DESC, (a.section_id = \(bind: article.section.id)) DESC, a.published_at DESC LIMIT \(bind: limit)"
            related = try await articles(from: try await engine.reader.raw(query).all())
        }
        // Then stories whose words are most like this one's headline and dek.
        if related.count < limit, let match = SQLiteSearch.similarityQuery(article.title + " " + article.summary) {
            let (ids, _) = try await SQLiteSearch.search(
                engine.reader, match: match, where: Self.publishedCondition(.init(excludingID: article.id), now: now), limit: limit * 2, offset: 0)
            let candidates = ids.map(\.0).filter { id in !related.contains { $0.id == id } }
            if !candidates.isEmpty {
                let rows = try await engine.reader.raw(Self.articleSelect + " WHERE a.id IN (\(binds: candidates))").all()
                let byID = Dictionary(uniqueKeysWithValues: try await articles(from: rows).map { ($0.id, $0) })
                for id in candidates where related.count < limit { if let found = byID[id] { related.append(found) } }
            }
        }
        if related.count < limit {
            let sameSection = try await publishedArticles(.init(sectionID: article.section.id, excludingID: article.id), limit: limit, now: now)
            for candidate in sameSection where related.count < limit && !related.contains(where: { $0.id == candidate.id }) {
                related.append(candidate)
            }
        }
        return related
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
              SELECT 1 FROM article_tag t JOIN article a ON a.id = t.article_id
              WHERE t.tag_id = g.id AND a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds))
            """).first().map(Self.tag)
    }

    /// The author profile at `slug` as readers may see it: only with a published article, so the
    /// staff list and bylines of unpublished stories stay private.
    public func publicAuthor(slug: String, now: Date = .now) async throws -> Author? {
        try await engine.reader.raw("""
            SELECT u.id, u.slug, u.name, u.title, u.bio_html FROM author u WHERE u.slug = \(bind: slug) AND EXISTS (
              SELECT 1 FROM article_author w JOIN article a ON a.id = w.article_id
              WHERE w.author_id = u.id AND a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds))
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

    // MARK: Row mapping

    static let articleSelect: SQLQueryString = """
        SELECT a.id, a.slug, a.title, a.summary, a.body_html, a.status, a.published_at, a.updated_at,
               a.image_source, a.image_alt, a.image_caption, a.image_credit, a.image_width, a.image_height, a.image_placeholder,
               a.disclaimer, a.modified_at, a.seo_title, a.seo_description, s.id AS section_id, s.slug AS section_slug, s.name AS section_name
        FROM article a JOIN section s ON s.id = a.section_id
        """

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

    /// Articles for `rows` of ``articleSelect``, with their authors, tags and corrections (three queries for all).
    func articles(from rows: [any SQLRow]) async throws -> [Article] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
        var authors: [Int64: [Author]] = [:]
        for row in try await engine.reader.raw(
            "SELECT w.article_id, u.id, u.slug, u.name, u.title, u.bio_html FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id IN (\(binds: ids)) ORDER BY w.position"
        ).all() {
            authors[try row.decode(column: "article_id", as: Int64.self), default: []].append(try Self.author(row))
        }
        var tags: [Int64: [Tag]] = [:]
        for row in try await engine.reader.raw(
            "SELECT t.article_id, g.id, g.slug, g.name FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id IN (\(binds: ids)) ORDER BY t.position"
        ).all() {
            tags[try row.decode(column: "article_id", as: Int64.self), default: []].append(try Self.tag(row))
        }
        var corrections: [Int64: [Correction]] = [:]
        for row in try await engine.reader.raw(
            "SELECT id, article_id, kind, body, created_at FROM correction WHERE article_id IN (\(binds: ids)) ORDER BY created_at, id"
        ).all() {
            corrections[try row.decode(column: "article_id", as: Int64.self), default: []].append(
                Correction(
                    id: try row.decode(column: "id", as: Int64.self),
                    kind: Correction.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .correction,
                    text: try row.decode(column: "body", as: String.self),
                    createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self))))
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
                bodyHTML: try row.decode(column: "body_html", as: String.self),
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
