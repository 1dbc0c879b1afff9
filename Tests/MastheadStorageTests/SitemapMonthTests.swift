import Foundation
import MastheadCore
import MastheadStorage
import MastheadTesting
import Testing

@Suite struct SitemapMonthTests {
    /// Ended months are counted once and kept; every write to one of their stories shows at once.
    @Test func theMonthsFollowEveryWriteToAnEndedMonth() async throws {
        try await withTestSite { test in
            let store = test.site.store
            func months() async throws -> [String] {
                try await store.publishedMonths().map { "\($0.month):\($0.count)" }
            }
            try test.writeArticle("a.md", frontMatter: ["title: Dam opens", "section: Local", "date: 2025-03-10T08:00:00Z"])
            try test.writeArticle("b.md", frontMatter: ["title: Ferry returns", "section: Local", "date: 2025-05-02T08:00:00Z"])
            try await test.importArticles(test.directory)
            #expect(try await months() == ["2025-05:1", "2025-03:1"])
            #expect(try await months() == ["2025-05:1", "2025-03:1"])   // from the kept summaries

            // A story added to an ended month, and one moved from May to April.
            try test.writeArticle("c.md", frontMatter: ["title: Bridge closes", "section: Local", "date: 2025-03-20T08:00:00Z"])
            try test.writeArticle("b.md", frontMatter: ["title: Ferry returns", "section: Local", "date: 2025-04-02T08:00:00Z"])
            try await test.importArticles(test.directory)
            #expect(try await months() == ["2025-04:1", "2025-03:2"])

            // An edit makes its month's newest change newer.
            let march = try #require(try await store.publishedMonths().last)
            try await Task.sleep(for: .seconds(1.1))
            try await store.addCorrection(articleSlug: "dam-opens", kind: .update, text: "The dam opened an hour late.")
            let after = try #require(try await store.publishedMonths().last)
            #expect(after.month == "2025-03" && after.lastModified > march.lastModified)

            // Taking a story away forgets every summary.
            let ferry = try #require(try await store.article(slug: "ferry-returns"))
            try await store.deleteArticle(id: ferry.id)
            #expect(try await months() == ["2025-03:2"])
        }
    }
}
