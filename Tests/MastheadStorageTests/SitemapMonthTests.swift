import Foundation
import MastheadCore
@testable import MastheadStorage
import MastheadTesting
import Testing

@Suite struct SitemapMonthTests {
    /// Months are the calendar's from 1583 on (Foundation's
    /// Gregorian calendar turns Julian before October 1582; ISO 8601 dates, and these months, do not).
    @Test func monthsAreTheCalendarsInUTC() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let gregorian = -12_212_553_600.0   // 1583-01-01
        var dates = [-62_135_596_800.0, -2_208_988_800, -1, 0, 951_782_400, 951_868_799, 1_709_251_199, 1_709_251_200, 4_102_444_799, 253_402_300_799]
        for _ in 0..<2_000 { dates.append(Double(Int64.random(in: -62_135_596_800...253_402_300_799))) }
        for seconds in dates {
            let date = Date(timeIntervalSince1970: seconds)
            let month = MonthSummaries.month(containing: date)
            #expect(month.start <= date && date < month.end, "\(date)")
            #expect(MonthSummaries.month(containing: month.end).start == month.end, "\(date)")
            #expect(MonthSummaries.month(before: month.start).end == month.start, "\(date)")
            guard seconds >= gregorian else { continue }
            let start = calendar.dateInterval(of: .month, for: date)!.start
            let parts = calendar.dateComponents([.year, .month], from: start)
            #expect(month.start == start, "\(date)")
            #expect(month.end == calendar.date(byAdding: .month, value: 1, to: start), "\(date)")
            #expect(month.name == String(format: "%04d-%02d", parts.year!, parts.month!), "\(date)")
        }
        #expect(MonthSummaries.month(containing: Date(timeIntervalSince1970: -62_135_596_800)).name == "0001-01")
    }

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
