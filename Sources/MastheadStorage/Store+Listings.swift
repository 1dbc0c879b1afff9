import Foundation
import MastheadCore
import SQLKit
import Synchronization

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

/// How many tags (or authors) have published stories, and the newest publication among them.
public struct ListingCount: Sendable, Equatable {
    public var count: Int
    public var lastModified: Date?
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

/// The count and newest change of each month that has ended, kept between sitemap requests:
/// those cannot gain a story by the passing of time (one dated in the future is in a later
/// month), only by a write, and every write to a published story names its month in the record
/// of content changes. The summaries follow that record, as page caches do, so a publish makes
/// the index read one month again, not all of them.
final class MonthSummaries: Sendable {
    struct Summary: Sendable {
        var count: Int
        var lastModified: Int64
    }

    private let state = Mutex<(version: Int64, months: [String: Summary])>((0, [:]))

    /// Forgets the months that changed after the summaries' content version, up to `version`;
    /// returns the content version the summaries are now at.
    func catchUp(to version: Int64, store: Store) async throws -> Int64 {
        let known = state.withLock { $0.version }
        guard known != version else { return known }
        let changes = try await store.contentChanges(after: known)
        return state.withLock { state in
            guard state.version == known else { return state.version }   // another request caught up meanwhile
            if let keys = changes.keys {
                for key in keys where key.hasPrefix("month ") { state.months[String(key.dropFirst(6))] = nil }
            } else {
                state.months = [:]
            }
            state.version = changes.version
            return state.version
        }
    }

    func summary(_ month: String) -> Summary? { state.withLock { $0.months[month] } }

    /// Keeps `summaries`, counted after catching up to `version`, unless the summaries moved on
    /// since (a change read meanwhile may have made them stale).
    func remember(_ summaries: [String: Summary], countedAt version: Int64) {
        state.withLock { state in
            guard state.version == version else { return }
            state.months.merge(summaries) { _, new in new }
        }
    }

    /// The month (UTC) that contains `date` (see ``DateText/utcMonth(containing:)``).
    static func month(containing date: Date) -> (name: String, start: Date, end: Date) {
        DateText.utcMonth(containing: date)
    }

    /// The month before the one that begins at `start`.
    static func month(before start: Date) -> (name: String, start: Date, end: Date) {
        DateText.utcMonth(containing: start.addingTimeInterval(-1))
    }
}

extension Store {
    /// The months (UTC) that have published articles at `now`, newest first, with how many and
    /// their newest change. The first and last publication times come from the ends of the listing
    /// index; each month is then a range of that index (which holds `modified_at` too), counted
    /// without reading an article row or working out a date per article. Months that have ended
    /// are counted once and kept (``MonthSummaries``) until a write changes one of their stories.
    public func publishedMonths(now: Date = .now) async throws -> [MonthStamp] {
        let version = try await monthSummaries.catchUp(to: try await contentVersion(), store: self)
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
        var months: [(name: String, start: Date, end: Date)] = []
        var month = MonthSummaries.month(containing: Date(epochSeconds: last))
        while true {
            months.append(month)
            guard month.start.epochSeconds > first else { break }
            month = MonthSummaries.month(before: month.start)
        }
        // Months not summarised yet (and the current one, which time alone can add to), a few
        // hundred at a time: a story dated in year 1 would otherwise ask for more bound values
        // than SQLite takes in one statement.
        let unknown = months.filter { $0.end > now || monthSummaries.summary($0.name) == nil }
        var counted: [String: MonthSummaries.Summary] = [:]
        for chunk in stride(from: 0, to: unknown.count, by: 500) {
            let part = Array(unknown[chunk..<min(chunk + 500, unknown.count)])
            for row in try await engine.reader.raw(Self.monthsQuery(part.map { ($0.start, $0.end) }, now: now)).all() {
                counted[part[try row.decode(column: "month", as: Int.self)].name] = MonthSummaries.Summary(
                    count: try row.decode(column: "n", as: Int.self), lastModified: try row.decode(column: "last_modified", as: Int64.self))
            }
        }
        // Ended months are kept, those without a story too (as a count of 0); not when asked about
        // another time than the present, whose months may hold what is not out yet.
        if abs(now.timeIntervalSinceNow) < 60 { monthSummaries.remember(
            Dictionary(uniqueKeysWithValues: unknown.filter { $0.end <= now }.map { ($0.name, counted[$0.name] ?? .init(count: 0, lastModified: 0)) }),
            countedAt: version) }
        return months.compactMap { month in
            guard let summary = counted[month.name] ?? monthSummaries.summary(month.name), summary.count > 0 else { return nil }
            return MonthStamp(
                month: month.name, count: summary.count, start: month.start, end: month.end, lastModified: Date(epochSeconds: summary.lastModified))
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
        try await listingStamps(now: now, tagsAndAuthors: true)
    }

    private func listingStamps(now: Date, tagsAndAuthors: Bool) async throws -> (sections: [ListingStamp], tags: [ListingStamp], authors: [ListingStamp]) {
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
            !tagsAndAuthors ? [] : try await stamps("""
                SELECT g.slug, (SELECT MAX(t.listed_at) FROM article_tag t
                  WHERE t.tag_id = g.id AND t.listed_at IS NOT NULL AND t.listed_at <= \(bind: time)) AS last_modified
                FROM tag g ORDER BY g.slug
                """, prefix: "/tag/"),
            !tagsAndAuthors ? [] : try await stamps("""
                SELECT u.slug, (SELECT MAX(w.listed_at) FROM article_author w
                  WHERE w.author_id = u.id AND w.listed_at IS NOT NULL AND w.listed_at <= \(bind: time)) AS last_modified
                FROM author u ORDER BY u.slug
                """, prefix: "/author/")
        )
    }

    /// What the sitemap index says of the listing pages, without reading each one: the sections
    /// with their newest publication, and how many tags and authors have published stories with
    /// the newest publication among them (the newest tagged, or bylined, story's).
    public func listingSummary(now: Date = .now) async throws -> (sections: [ListingStamp], tags: ListingCount, authors: ListingCount) {
        let time = now.epochSeconds
        func count(_ table: String, _ key: String, _ owners: String) async throws -> ListingCount {
            let row = try await engine.reader.raw("""
                SELECT
                  (SELECT COUNT(*) FROM \(unsafeRaw: owners) o WHERE EXISTS (
                     SELECT 1 FROM \(unsafeRaw: table) l WHERE l.\(unsafeRaw: key) = o.id AND l.listed_at IS NOT NULL AND l.listed_at <= \(bind: time))) AS n,
                  (SELECT a.published_at FROM article a WHERE a.status = 'published' AND a.published_at <= \(bind: time)
                     AND EXISTS (SELECT 1 FROM \(unsafeRaw: table) l WHERE l.article_id = a.id)
                   ORDER BY a.published_at DESC, a.id DESC LIMIT 1) AS newest
                """).first()
            return ListingCount(
                count: try row?.decode(column: "n", as: Int.self) ?? 0,
                lastModified: try row?.decode(column: "newest", as: Int64?.self).map(Date.init(epochSeconds:)))
        }
        return (try await listingStamps(now: now, tagsAndAuthors: false).sections,
                try await count("article_tag", "tag_id", "tag"), try await count("article_author", "author_id", "author"))
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
