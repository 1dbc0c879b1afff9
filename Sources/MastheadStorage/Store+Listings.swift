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
    /// their newest change. The first and last publication times come from the ends of the listing
    /// index; each month is then a range of that index (which holds `modified_at` too), counted
    /// without reading an article row or working out a date per article.
    public func publishedMonths(now: Date = .now) async throws -> [MonthStamp] {
        let time = now.epochSeconds
        // Two ends of the index, each one step (MIN and MAX in one SELECT would scan it).
        guard let bounds = try await engine.reader.raw("""
            SELECT
              (SELECT published_at FROM article WHERE status = 'published' AND published_at <= \(bind: time)
               ORDER BY published_at ASC LIMIT 1) AS first,
              (SELECT published_at FROM article WHERE status = 'published' AND published_at <= \(bind: time)
               ORDER BY published_at DESC LIMIT 1) AS last
            """).first(),
            let first = try bounds.decode(column: "first", as: Int64?.self),
            let last = try bounds.decode(column: "last", as: Int64?.self)
        else { return [] }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        var months: [(name: String, start: Date, end: Date)] = []
        var start = calendar.dateInterval(of: .month, for: Date(epochSeconds: last))?.start ?? Date(epochSeconds: last)
        while true {
            guard let end = calendar.date(byAdding: .month, value: 1, to: start) else { break }
            let parts = calendar.dateComponents([.year, .month], from: start)
            months.append((String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0), start, end))
            guard start.epochSeconds > first, let previous = calendar.date(byAdding: .month, value: -1, to: start) else { break }
            start = previous
        }
        // A few hundred months at a time: a story dated in year 1 would otherwise ask for more
        // bound values than SQLite takes in one statement.
        var rows: [(offset: Int, row: any SQLRow)] = []
        for chunk in stride(from: 0, to: months.count, by: 500) {
            let part = months[chunk..<min(chunk + 500, months.count)].map { ($0.start, $0.end) }
            rows += try await engine.reader.raw(Self.monthsQuery(part, now: now)).all().map { (chunk, $0) }
        }
        return try rows.map { offset, row in
            let month = months[offset + (try row.decode(column: "month", as: Int.self))]
            return MonthStamp(
                month: month.name, count: try row.decode(column: "n", as: Int.self), start: month.start, end: month.end,
                lastModified: Date(epochSeconds: try row.decode(column: "last_modified", as: Int64.self)))
        }
    }

    /// Per month range (`month` is its index in `months`): how many stories were published in it
    /// by `now`, and their newest change; months without any are left out.
    static func monthsQuery(_ months: [(start: Date, end: Date)], now: Date) -> SQLQueryString {
        var ranges: SQLQueryString = ""
        for (index, month) in months.enumerated() {
            ranges += index == 0 ? "" : ", "
            ranges += "(\(bind: index), \(bind: month.start.epochSeconds), \(bind: month.end.epochSeconds))"
        }
        return """
            SELECT m.column1 AS month, COUNT(*) AS n, MAX(a.modified_at) AS last_modified
            FROM (VALUES \(ranges)) m
            JOIN article a ON a.status = 'published' AND a.published_at >= m.column2 AND a.published_at < m.column3
              AND a.published_at <= \(bind: now.epochSeconds)
            GROUP BY m.column1 ORDER BY m.column1
            """
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
