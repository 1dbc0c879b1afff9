import Foundation
import MastheadCore
import SQLKit

/// One published article as sitemaps list it.
public struct ArticleStamp: Sendable, Equatable {
    public var path: String
    public var title: String
    public var publishedAt: Date
    public var modifiedAt: Date
}

/// A section, tag or author page as sitemaps list it, with its newest change.
public struct ListingStamp: Sendable, Equatable {
    public var path: String
    public var lastModified: Date
}

extension Store {
    /// Every article readers can see at `now`, newest first.
    public func publishedStamps(now: Date = .now) async throws -> [ArticleStamp] {
        try await engine.reader.raw("""
            SELECT a.slug, a.title, a.published_at, a.modified_at, s.slug AS section_slug
            FROM article a JOIN section s ON s.id = a.section_id
            WHERE a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)
            ORDER BY a.published_at DESC, a.id DESC
            """).all().map { row in
            ArticleStamp(
                path: "/\(try row.decode(column: "section_slug", as: String.self))/\(try row.decode(column: "slug", as: String.self))/",
                title: try row.decode(column: "title", as: String.self),
                publishedAt: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self)),
                modifiedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)))
        }
    }

    /// Sections, tags and authors that have published articles, with their newest article's change.
    public func listingStamps(now: Date = .now) async throws -> (sections: [ListingStamp], tags: [ListingStamp], authors: [ListingStamp]) {
        func stamps(_ query: SQLQueryString, prefix: String) async throws -> [ListingStamp] {
            try await engine.reader.raw(query).all().map { row in
                ListingStamp(
                    path: "\(prefix)\(try row.decode(column: "slug", as: String.self))/",
                    lastModified: Date(epochSeconds: try row.decode(column: "last_modified", as: Int64.self)))
            }
        }
        let visible: SQLQueryString = "a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)"
        return (
            try await stamps("""
                SELECT s.slug, MAX(a.modified_at) AS last_modified FROM section s JOIN article a ON a.section_id = s.id
                WHERE \(visible) GROUP BY s.id, s.slug, s.position ORDER BY s.position, s.id
                """, prefix: "/"),
            try await stamps("""
                SELECT g.slug, MAX(a.modified_at) AS last_modified FROM tag g JOIN article_tag t ON t.tag_id = g.id
                JOIN article a ON a.id = t.article_id WHERE \(visible) GROUP BY g.id, g.slug ORDER BY g.slug
                """, prefix: "/tag/"),
            try await stamps("""
                SELECT u.slug, MAX(a.modified_at) AS last_modified FROM author u JOIN article_author w ON w.author_id = u.id
                JOIN article a ON a.id = w.article_id WHERE \(visible) GROUP BY u.id, u.slug ORDER BY u.slug
                """, prefix: "/author/")
        )
    }

    /// Standing pages with their last change.
    public func pageStamps() async throws -> [ListingStamp] {
        try await engine.reader.raw("SELECT slug, modified_at FROM page ORDER BY slug").all().map { row in
            ListingStamp(
                path: "/\(try row.decode(column: "slug", as: String.self))/",
                lastModified: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)))
        }
    }
}
