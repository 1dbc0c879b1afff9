import Foundation
import MastheadCore
@testable import MastheadStorage
import MastheadTesting
import SQLKit
import Testing

@Suite struct MigrationTests {
    /// Migration 14 rewrites `article` on SQLite; run again on a filled site, as an upgrade runs it,
    /// it keeps every story as it was, and what refers to stories still refers to them.
    @Test func movingArticleBodiesLastKeepsStoriesAndWhatRefersToThem() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: [
                "title: Harbour strike ends", "section: World", "tags: [Labour, Shipping]", "authors: [Amara Okafor, Dev Raman]",
                "date: 2026-11-20T10:00:00Z",
            ], body: "Dockers voted to return to work.\n\n![The quay](https://example.org/quay.jpg)")
            try test.writeArticle("b.md", frontMatter: ["title: Ferry timetable changes", "section: World", "tags: [Shipping]"])
            try await test.importArticles(test.directory)
            let store = test.site.store
            try await store.addCorrection(articleSlug: "harbour-strike-ends", kind: .correction, text: "The vote was on Tuesday.")
            let before = try #require(try await store.article(slug: "harbour-strike-ends"))

            try await store.engine.write { db in try await db.raw("DELETE FROM schema_migration WHERE version = 14").run() }
            #expect(try await store.migrate() == [14])

            let after = try #require(try await store.article(slug: "harbour-strike-ends"))
            #expect(after.id == before.id && after.title == before.title && after.bodyHTML == before.bodyHTML)
            #expect(after.tags.map(\.name) == ["Labour", "Shipping"])
            #expect(after.authors.map(\.name) == ["Amara Okafor", "Dev Raman"])
            #expect(after.corrections.map(\.text) == ["The vote was on Tuesday."])
            #expect(after.publishedAt == before.publishedAt && after.section == before.section)
            #expect(try await store.search(SearchQuery(text: "dockers"), limit: 10).hits.map(\.article.slug) == ["harbour-strike-ends"])
            if !TestSite.onPostgres {
                let columns = try await store.engine.reader.raw("SELECT name FROM pragma_table_info('article')").all()
                    .map { try $0.decode(column: "name", as: String.self) }
                #expect(columns.suffix(2) == ["body_html", "body_markdown"])
                #expect(try await store.engine.reader.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) == 1)
            }

            // References still hold both ways: deleting the story takes its links with it.
            try await store.deleteArticle(id: after.id)
            let links = try await store.engine.reader.raw("SELECT COUNT(*) AS n FROM article_tag WHERE article_id = \(bind: after.id)").first()
            #expect(try links?.decode(column: "n", as: Int.self) == 0)
            #expect(try await store.article(slug: "ferry-timetable-changes")?.tags.map(\.name) == ["Shipping"])
        }
    }
}
