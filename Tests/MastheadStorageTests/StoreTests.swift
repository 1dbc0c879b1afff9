import Foundation
import MastheadCore
import MastheadStorage
import MastheadTesting
import Testing

@Suite struct StoreTests {
    @Test func migrationsRunOnceAndRecordTheirVersion() async throws {
        try await withTestSite { test in
            // Site.open already migrated: a second run has nothing to do.
            let applied = try await test.site.store.migrate()
            #expect(applied.isEmpty)
            #expect(try await test.site.store.isEmpty())
        }
    }

    @Test func importCreatesSectionsTagsAndAuthorsAndReimportUpdatesInPlace() async throws {
        try await withTestSite { test in
            let file = try test.writeArticle("a.md", frontMatter: [
                "title: Harbour strike ends", "section: World Affairs", "tags: [Labour, Shipping]",
                "authors: [Amara Okafor, Dev Raman]", "date: 2026-11-20T10:00:00Z",
            ])
            let first = try await test.importArticles(file)
            #expect(first == [ImportedArticle(slug: "harbour-strike-ends", path: "/world-affairs/harbour-strike-ends/", status: .published, change: .created)])
            let store = test.site.store
            let article = try #require(try await store.article(slug: "harbour-strike-ends"))
            #expect(article.section.name == "World Affairs")
            #expect(article.tags.map(\.name) == ["Labour", "Shipping"])
            #expect(article.authors.map(\.slug) == ["amara-okafor", "dev-raman"])

            try test.writeArticle("a.md", frontMatter: [
                "title: Harbour strike ends after 12 days", "slug: harbour-strike-ends", "section: Business",
                "tags: [Labour]", "authors: [Dev Raman]",
            ])
            let second = try await test.importArticles(file)
            #expect(second.first?.created == false)
            #expect(second.first?.path == "/business/harbour-strike-ends/")
            let updated = try #require(try await store.article(slug: "harbour-strike-ends"))
            #expect(updated.id == article.id)
            #expect(updated.title == "Harbour strike ends after 12 days")
            #expect(updated.tags.map(\.name) == ["Labour"])
            #expect(updated.authors.map(\.name) == ["Dev Raman"])
            // The original publication date is kept when the new file gives none.
            #expect(updated.publishedAt == article.publishedAt)
            #expect(try await store.sections().map(\.slug) == ["world-affairs", "business"])
        }
    }

    @Test func readersSeeOnlyPublishedArticlesWhoseTimeHasCome() async throws {
        try await withTestSite { test in
            let now = Date()
            let future = ISO8601DateFormatter().string(from: now.addingTimeInterval(3600))
            try test.writeArticle("1.md", frontMatter: ["title: Out now", "section: World", "date: 2026-01-01"])
            try test.writeArticle("2.md", frontMatter: ["title: Still a draft", "section: World", "status: draft"])
            try test.writeArticle("3.md", frontMatter: ["title: Due later", "section: World", "date: \(future)"])
            try await test.importArticles(test.directory)
            let store = test.site.store
            #expect(try await store.publishedArticles(limit: 10).map(\.slug) == ["out-now"])
            #expect(try await store.countPublishedArticles() == 1)
            #expect(try await store.publishedArticles(limit: 10, now: now.addingTimeInterval(7200)).map(\.slug) == ["due-later", "out-now"])
            let next = try #require(try await store.nextPublicationTime(after: now))
            #expect(abs(next.timeIntervalSince(now.addingTimeInterval(3600))) < 2)
        }
    }

    @Test func aFailedImportLeavesNothingBehind() async throws {
        try await withTestSite { test in
            try test.writeArticle("batch/1.md", frontMatter: ["title: Good one", "section: World", "tags: [Fresh tag]"])
            try test.writeArticle("batch/2.md", frontMatter: ["title: Same slug", "slug: good-one", "section: Science"])
            let versionBefore = try await test.site.store.contentVersion()
            await #expect(throws: MastheadError.self) { try await test.importArticles(test.directory + "/batch") }
            let store = test.site.store
            #expect(try await store.isEmpty())
            #expect(try await store.sections().isEmpty)
            #expect(try await store.tag(slug: "fresh-tag") == nil)
            #expect(try await store.contentVersion() == versionBefore)
        }
    }

    @Test func relatedArticlesPreferSharedTagsThenTheSameSection() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: ["title: Main", "section: World", "tags: [Floods, Climate]", "date: 2026-11-01"])
            try test.writeArticle("b.md", frontMatter: ["title: Two tags", "section: Science", "tags: [Floods, Climate]", "date: 2026-10-01"])
            try test.writeArticle("c.md", frontMatter: ["title: One tag", "section: Business", "tags: [Climate]", "date: 2026-11-02"])
            try test.writeArticle("d.md", frontMatter: ["title: Same section", "section: World", "date: 2026-11-03"])
            try test.writeArticle("e.md", frontMatter: ["title: Unrelated", "section: Business", "date: 2026-11-04"])
            try await test.importArticles(test.directory)
            let store = test.site.store
            let main = try #require(try await store.article(slug: "main"))
            #expect(try await store.relatedArticles(to: main, limit: 3).map(\.slug) == ["two-tags", "one-tag", "same-section"])
        }
    }

    @Test func relatedArticlesFallBackToStoriesWithSimilarWords() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: ["title: Glacier lake threatens mountain village", "section: World", "date: 2026-11-01"])
            try test.writeArticle("b.md", frontMatter: ["title: Scientists measure the glacier lake", "section: Science", "date: 2026-10-01"])
            try test.writeArticle("c.md", frontMatter: ["title: Bakery chain changes hours", "section: Business", "date: 2026-11-02"])
            try test.writeArticle("d.md", frontMatter: ["title: Election night results", "section: World", "date: 2026-09-01"])
            try await test.importArticles(test.directory)
            let store = test.site.store
            let main = try #require(try await store.article(slug: "glacier-lake-threatens-mountain-village"))
            #expect(try await store.relatedArticles(to: main, limit: 2).map(\.slug) == ["scientists-measure-the-glacier-lake", "election-night-results"])
        }
    }

    @Test func correctionsAreKeptInOrderAndMarkTheArticleUpdated() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: ["title: Count", "section: World", "date: 2026-11-01T08:00:00Z"])
            try await test.importArticles(test.directory)
            let store = test.site.store
            let time = ISO8601DateFormatter().date(from: "2026-11-02T09:00:00Z")!
            try await store.addCorrection(articleSlug: "count", kind: .correction, text: "It was eleven, not twelve.", at: time)
            try await store.addCorrection(articleSlug: "count", kind: .update, text: "Officials confirmed the figure.", at: time.addingTimeInterval(60))
            let article = try #require(try await store.article(slug: "count"))
            #expect(article.corrections.map(\.kind) == [.correction, .update])
            #expect(article.updatedAt == time.addingTimeInterval(60))
            await #expect(throws: MastheadError.self) { try await store.addCorrection(articleSlug: "nope", kind: .update, text: "x") }
            await #expect(throws: MastheadError.self) { try await store.addCorrection(articleSlug: "count", kind: .update, text: "  ") }
        }
    }

    @Test func everyWriteRaisesTheContentVersionSeenByOtherConnections() async throws {
        try await withTestSite { test in
            let before = try await test.site.store.contentVersion()
            // A second store on the same file stands for another process (the command line).
            let other = try await Store.open(test.site.configuration.database, logger: test.site.logger)
            try await other.ensureSections(["World"])
            await other.close()
            #expect(try await test.site.store.contentVersion() > before)
        }
    }

    @Test func whatIsWrittenIsReadBackAtOnceWhileOthersRead() async throws {
        try await withTestSite { test in
            for number in 0..<300 {
                try test.writeArticle("bulk/\(number).md", frontMatter: ["title: Story \(number) about the harbour", "section: World"])
            }
            try await test.importArticles(test.directory + "/bulk")
            let store = test.site.store
            // Readers keep every reader connection busy with long statements meanwhile.
            let readers = Task {
                while !Task.isCancelled {
                    await withTaskGroup(of: Void.self) { group in
                        for _ in 0..<8 { group.addTask { _ = try? await store.search(SearchQuery(text: "harbour"), limit: 300) } }
                    }
                }
            }
            defer { readers.cancel() }
            var missing: [String] = []
            for number in 0..<40 {
                try await store.ensureSections(["Desk \(number)"])
                if try await store.section(slug: "desk-\(number)") == nil { missing.append("desk-\(number)") }
            }
            #expect(missing.isEmpty, "written, then not found by the next read: \(missing)")
        }
    }

    @Test func databaseURLsAreCheckedWithClearErrors() throws {
        #expect(try DatabaseURL(parsing: "sqlite:///var/lib/news.sqlite") == .sqlite(path: "/var/lib/news.sqlite"))
        #expect(try DatabaseURL(parsing: "sqlite://data/news.sqlite") == .sqlite(path: "data/news.sqlite"))
        #expect(throws: MastheadError.self) { try DatabaseURL(parsing: "mysql://x") }
        #expect(throws: MastheadError.self) { try DatabaseURL(parsing: "sqlite://") }
        #expect(throws: MastheadError.self) { try DatabaseURL(parsing: "postgres://db/news") }
    }
}
