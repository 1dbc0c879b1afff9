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

/// One month of published articles, as the sitemap index lists it.
public struct MonthStamp: Sendable, Equatable {
    /// `2026-11`.
    public var month: String
    public var count: Int
    /// The month's first moment (UTC) and the next month's.
    public var start: Date
    public var end: Date
    public var lastModified: Date
}

extension Store {
    /// The months (UTC) that have published articles at `now`, newest first, with how many and
    /// their newest change: one pass over the listing index, whatever the site's size.
    public func publishedMonths(now: Date = .now) async throws -> [MonthStamp] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let rows = try await engine.reader.raw("""
            SELECT \(unsafeRaw: engine.monthOf("a.published_at")) AS month, COUNT(*) AS n, MAX(a.modified_at) AS last_modified
            FROM article a WHERE a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)
            GROUP BY month ORDER BY month DESC
            """).all()
        return try rows.compactMap { row in
            let month = try row.decode(column: "month", as: String.self)
            let parts = month.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1])),
                  let end = calendar.date(byAdding: .month, value: 1, to: start) else { return nil }
            return MonthStamp(
                month: month, count: try row.decode(column: "n", as: Int.self), start: start, end: end,
                lastModified: Date(epochSeconds: try row.decode(column: "last_modified", as: Int64.self)))
        }
    }

    /// The articles readers can see at `now`, newest first: all of them, or those published in
    /// `from..<until`, read from the listing index.
    public func publishedStamps(from: Date? = nil, until: Date? = nil, now: Date = .now) async throws -> [ArticleStamp] {
        var range: SQLQueryString = ""
        if let from { range += " AND a.published_at >= \(bind: from.epochSeconds)" }
        if let until { range += " AND a.published_at < \(bind: until.epochSeconds)" }
        return try await engine.reader.raw("""
            SELECT a.slug, a.title, a.published_at, a.modified_at, s.slug AS section_slug
            FROM article a JOIN section s ON s.id = a.section_id
            WHERE a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)
            """ + range + " ORDER BY a.published_at DESC, a.id DESC").all().map { row in
            ArticleStamp(
                path: "/\(try row.decode(column: "section_slug", as: String.self))/\(try row.decode(column: "slug", as: String.self))/",
                title: try row.decode(column: "title", as: String.self),
                publishedAt: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self)),
                modifiedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)))
        }
    }

    /// Sections, tags and authors that have published articles, with their newest publication,
    /// each read from its listing index.
    public func listingStamps(now: Date = .now) async throws -> (sections: [ListingStamp], tags: [ListingStamp], authors: [ListingStamp]) {
        func stamps(_ query: SQLQueryString, prefix: String) async throws -> [ListingStamp] {
            try await engine.reader.raw(query).all().compactMap { row in
                guard let last = try row.decode(column: "last_modified", as: Int64?.self) else { return nil }
                return ListingStamp(path: "\(prefix)\(try row.decode(column: "slug", as: String.self))/", lastModified: Date(epochSeconds: last))
            }
        }
        let time = now.epochSeconds
        return (
            try await stamps("""
                SELECT s.slug, (SELECT MAX(a.published_at) FROM article a
                  WHERE a.status = 'published' AND a.section_id = s.id AND a.published_at <= \(bind: time)) AS last_modified
                FROM section s ORDER BY s.position, s.id
                """, prefix: "/"),
            try await stamps("""
                SELECT g.slug, (SELECT MAX(t.listed_at) FROM article_tag t
                  WHERE t.tag_id = g.id AND t.listed_at IS NOT NULL AND t.listed_at <= \(bind: time)) AS last_modified
                FROM tag g ORDER BY g.slug
                """, prefix: "/tag/"),
            try await stamps("""
                SELECT u.slug, (SELECT MAX(w.listed_at) FROM article_author w
                  WHERE w.author_id = u.id AND w.listed_at IS NOT NULL AND w.listed_at <= \(bind: time)) AS last_modified
                FROM author u ORDER BY u.slug
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
