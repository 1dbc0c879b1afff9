import Foundation
import MastheadCore
import SQLKit

/// An article as `export-markdown` writes it: everything its Markdown file holds.
public struct ExportedArticle: Sendable {
    public var id: Int64
    public var source: ArticleSource
}

/// A standing page as `export-markdown` writes it.
public struct ExportedPage: Sendable {
    public var path: String
    public var title: String
    public var summary: String
    public var markdown: String
}

extension Store {
    /// Articles of every status with `id` above `after`, in id order, `limit` at a time (an export
    /// of any size takes bounded memory).
    public func exportArticles(after: Int64, limit: Int) async throws -> [ExportedArticle] {
        let rows = try await engine.reader.raw("""
            SELECT a.id, a.slug, a.title, a.summary, a.body_markdown, a.status, a.published_at, a.updated_at, a.image_source,
                   a.image_alt, a.image_caption, a.image_credit, a.disclaimer, a.seo_title, a.seo_description, a.canonical_url,
                   s.name AS section_name
            FROM article a JOIN section s ON s.id = a.section_id
            WHERE a.id > \(bind: after) ORDER BY a.id LIMIT \(bind: limit)
            """).all()
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
        var tags: [Int64: [String]] = [:]
        for row in try await engine.reader.raw("""
            SELECT t.article_id, g.name FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id IN (\(binds: ids)) ORDER BY t.article_id, t.position
            """).all() {
            tags[try row.decode(column: "article_id", as: Int64.self), default: []].append(try row.decode(column: "name", as: String.self))
        }
        var authors: [Int64: [String]] = [:]
        for row in try await engine.reader.raw("""
            SELECT w.article_id, u.name FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id IN (\(binds: ids)) ORDER BY w.article_id, w.position
            """).all() {
            authors[try row.decode(column: "article_id", as: Int64.self), default: []].append(try row.decode(column: "name", as: String.self))
        }
        var corrections: [Int64: [ArticleSource.CorrectionSource]] = [:]
        for row in try await engine.reader.raw("""
            SELECT article_id, kind, body, created_at FROM correction WHERE article_id IN (\(binds: ids)) ORDER BY article_id, created_at, id
            """).all() {
            corrections[try row.decode(column: "article_id", as: Int64.self), default: []].append(.init(
                kind: Correction.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .correction,
                text: try row.decode(column: "body", as: String.self),
                date: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self))))
        }
        return try rows.map { row in
            let id = try row.decode(column: "id", as: Int64.self)
            var source = ArticleSource(
                title: try row.decode(column: "title", as: String.self), slug: try row.decode(column: "slug", as: String.self),
                sectionName: try row.decode(column: "section_name", as: String.self), tagNames: tags[id] ?? [], authorNames: authors[id] ?? [],
                publishedAt: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self)),
                updatedAt: try row.decode(column: "updated_at", as: Int64?.self).map(Date.init(epochSeconds:)),
                summary: try row.decode(column: "summary", as: String.self), image: try row.decode(column: "image_source", as: String?.self),
                imageAlt: try row.decode(column: "image_alt", as: String.self), imageCaption: try row.decode(column: "image_caption", as: String.self),
                imageCredit: try row.decode(column: "image_credit", as: String.self), disclaimer: try row.decode(column: "disclaimer", as: Int.self) != 0,
                status: ArticleStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
                bodyMarkdown: try row.decode(column: "body_markdown", as: String.self), file: "article \(id)")
            source.seoTitle = try row.decode(column: "seo_title", as: String.self)
            source.seoDescription = try row.decode(column: "seo_description", as: String.self)
            source.canonicalURL = try row.decode(column: "canonical_url", as: String.self)
            source.corrections = corrections[id] ?? []
            return ExportedArticle(id: id, source: source)
        }
    }

    /// Every standing page with its Markdown.
    public func exportPages() async throws -> [ExportedPage] {
        try await engine.reader.raw("SELECT slug, title, summary, body_markdown FROM page ORDER BY slug").all().map { row in
            ExportedPage(
                path: try row.decode(column: "slug", as: String.self), title: try row.decode(column: "title", as: String.self),
                summary: try row.decode(column: "summary", as: String.self), markdown: try row.decode(column: "body_markdown", as: String.self))
        }
    }

    /// Every author profile: name, job title and biography in Markdown.
    public func exportAuthors() async throws -> [(name: String, title: String, bio: String)] {
        try await engine.reader.raw("SELECT name, title, bio_markdown FROM author ORDER BY slug").all().map { row in
            (try row.decode(column: "name", as: String.self), try row.decode(column: "title", as: String.self),
             try row.decode(column: "bio_markdown", as: String.self))
        }
    }
}
