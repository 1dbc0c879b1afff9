import Foundation
import MastheadCore
@testable import MastheadStorage
import MastheadTesting
import SQLKit
import Testing

/// The queries behind every reader-facing page read indexes, never every article: their cost
/// must not grow with the size of the archive.
@Suite(.disabled(if: TestSite.onPostgres, "the plans checked are SQLite's (EXPLAIN QUERY PLAN)"))
struct QueryPlanTests {
    /// A plan step that reads a whole table of articles (or their links) one row after another.
    static func fullScans(_ plan: [String]) -> [String] {
        plan.filter { step in
            ["SCAN a", "SCAN article ", "SCAN t", "SCAN w", "SCAN article_tag", "SCAN article_author"].contains { step.hasPrefix($0) }
                && !step.contains("VIRTUAL TABLE") && !step.hasPrefix("SCAN c")
        }
    }

    @Test func readerFacingQueriesUseIndexes() async throws {
        try await withTestSite { test in
            for number in 0..<30 {
                try test.writeArticle("plan/\(number).md", frontMatter: [
                    "title: Story \(number) about the harbour", "section: \(number % 2 == 0 ? "World" : "Science")",
                    "tags: [Tag \(number % 3), Tag \(number % 5)]", "authors: [Writer \(number % 4)]",
                ])
            }
            try await test.importArticles(test.directory + "/plan")
            let store = test.site.store
            let now = Date.now
            let queries: [(String, SQLQueryString)] = [
                ("home list", Store.listQuery(.init(), now: now) + " LIMIT 20"),
                ("section list page 500", Store.listQuery(.init(sectionID: 1), now: now) + " LIMIT 20 OFFSET 10000"),
                ("tag list", Store.listQuery(.init(tagID: 1), now: now) + " LIMIT 20 OFFSET 20"),
                ("author list", Store.listQuery(.init(authorID: 1), now: now) + " LIMIT 20"),
                ("search for a common word, newest first", "SELECT a.id" + SQLiteSearch.newestFirst(
                    match: "\"harbour\"", where: Store.publishedCondition(.init(), now: now)) + " ORDER BY a.published_at DESC, a.id DESC LIMIT 10"),
                ("count of a tag", "SELECT COUNT(*) FROM (" + Store.listQuery(.init(tagID: 1), now: now) + ")"),
                ("article by slug", Store.articleSelect() + " WHERE a.slug = 'story-1-about-the-harbour'"),
                ("months for sitemaps", Store.monthsQuery(
                    [(now.addingTimeInterval(-86_400 * 30), now), (now.addingTimeInterval(-86_400 * 60), now.addingTimeInterval(-86_400 * 30))], now: now)),
                ("first publication", "SELECT published_at FROM article WHERE status = 'published' AND published_at <= \(bind: now.epochSeconds) ORDER BY published_at ASC LIMIT 1"),
                ("newsroom drafts", "SELECT a.id FROM article a WHERE a.status = 'draft' AND a.status <> 'published' ORDER BY a.modified_at DESC, a.id DESC LIMIT 20"),
            ]
            for (name, query) in queries {
                let plan = try await store.queryPlan(query)
                #expect(Self.fullScans(plan).isEmpty, "\(name) reads every row: \(plan)")
            }
            // Lists are read in their order: no sort of every published story.
            for (name, query) in queries.prefix(5) {
                let plan = try await store.queryPlan(query)
                #expect(!plan.contains { $0.contains("TEMP B-TREE FOR ORDER BY") }, "\(name) sorts its whole list: \(plan)")
            }
        }
    }

    @Test func sitemapMonthsSplitAtMidnightUTCAndSkipEmptyMonths() async throws {
        try await withTestSite { test in
            for (number, date) in ["2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z", "2026-02-14T12:00:00Z", "2025-11-15T08:00:00Z"].enumerated() {
                try test.writeArticle("months/\(number).md", frontMatter: ["title: Month story \(number)", "section: World", "date: \(date)"])
            }
            try await test.importArticles(test.directory + "/months")
            let months = try await test.site.store.publishedMonths()
            #expect(months.map(\.month) == ["2026-02", "2026-01", "2025-11"])
            #expect(months.map(\.count) == [2, 1, 1])
            #expect(months.first?.start == DateParsing.date(from: "2026-02-01T00:00:00Z", timeZone: .gmt))
            #expect(months.first?.end == DateParsing.date(from: "2026-03-01T00:00:00Z", timeZone: .gmt))

            // A story dated a century back spans more months than one statement's bound values allow.
            try test.writeArticle("old/0.md", frontMatter: ["title: An archive story", "section: World", "date: 1900-01-01T00:00:00Z"])
            try await test.importArticles(test.directory + "/old")
            let span = try await test.site.store.publishedMonths()
            #expect(span.map(\.month) == ["2026-02", "2026-01", "2025-11", "1900-01"])
        }
    }
}
