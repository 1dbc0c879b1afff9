import Foundation
import MastheadCore
import MastheadStorage
import MastheadTesting
import Testing

@Suite struct SearchTests {
    @Test func findsWordsInTitlesDeksAndBodiesBestFirstWithMarkedSnippets() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: ["title: Harbour strike ends", "section: World", "date: 2026-11-01"], body: "Dockers voted to return.")
            try test.writeArticle("b.md", frontMatter: ["title: Ferry timetable", "section: Business", "summary: Changes after the harbour dispute", "date: 2026-11-02"], body: "New sailings.")
            try test.writeArticle("c.md", frontMatter: ["title: Bees in gardens", "section: Science", "date: 2026-11-03"], body: "Volunteers counted <bees> near the harbour wall and the zygomorphic flowers.")
            try await test.importArticles(test.directory)
            let store = test.site.store
            let (hits, total) = try await store.search(SearchQuery(text: "harbour"), limit: 10)
            #expect(total == 3)
            #expect(hits.first?.article.slug == "harbour-strike-ends", "a title match ranks first")
            let bees = try #require(hits.first { $0.article.slug == "bees-in-gardens" })
            #expect(bees.snippetHTML.contains("<mark>harbour</mark>"))
            #expect(bees.snippetHTML.contains("&lt;bees&gt;"), "snippets are escaped")

            #expect(try await store.search(SearchQuery(text: "zygomorphic"), limit: 10).hits.map(\.article.slug) == ["bees-in-gardens"])
            #expect(try await store.search(SearchQuery(text: "zygo"), limit: 10).total == 1, "the last word matches as a prefix")
            #expect(try await store.search(SearchQuery(text: "harbour", sectionSlug: "business"), limit: 10).hits.map(\.article.slug) == ["ferry-timetable"])
            let from = DateParsing.date(from: "2026-11-02", timeZone: .gmt)
            #expect(try await store.search(SearchQuery(text: "harbour", from: from), limit: 10).total == 2)
            #expect(try await store.search(SearchQuery(text: "\\\"harbour* (:"), limit: 10).total == 3, "quotes and operators are ignored")
            #expect(try await store.search(SearchQuery(text: "harbour NOT OR"), limit: 10).total == 0, "NOT and OR are plain words")
            #expect(try await store.search(SearchQuery(text: "  "), limit: 10).total == 0)
        }
    }

    @Test func theIndexFollowsEveryEditAndUnpublish() async throws {
        try await withTestSite { test in
            let file = try test.writeArticle("a.md", frontMatter: ["title: Council budget", "section: Politics"], body: "The word is quagmire.")
            try await test.importArticles(file)
            let store = test.site.store
            #expect(try await store.search(SearchQuery(text: "quagmire"), limit: 10).total == 1)
            try test.writeArticle("a.md", frontMatter: ["title: Council budget", "section: Politics"], body: "The word is now stalemate.")
            try await test.importArticles(file)
            #expect(try await store.search(SearchQuery(text: "quagmire"), limit: 10).total == 0)
            #expect(try await store.search(SearchQuery(text: "stalemate"), limit: 10).total == 1)
            try test.writeArticle("a.md", frontMatter: ["title: Council budget", "section: Politics", "status: draft"], body: "The word is now stalemate.")
            try await test.importArticles(file)
            #expect(try await store.search(SearchQuery(text: "stalemate"), limit: 10).total == 0, "unpublished articles are not found")
        }
    }
}
