import Foundation
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTesting
import Testing

/// Two instances on one database (two stores here, each with its own connections) racing for the
/// same thing: exactly one wins, and nothing is lost or done twice. `make test` runs these on
/// SQLite and again on PostgreSQL, where the instances really do write at the same time.
@Suite struct InstanceRaceTests {
    /// A second instance's store on the test site's database.
    func secondInstance(_ test: TestSite) async throws -> Store {
        try await Store.open(test.site.configuration.database, logger: test.site.logger)
    }

    func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    @Test func twoSavesFromTheSameVersionOneWinsAndTheOtherKeepsItsText() async throws {
        try await withTestSite { test in
            let (users, article) = try await NewsroomTests().seed(test)
            let other = try await secondInstance(test)
            do {
                for round in 1...5 {
                    let editable = try #require(try await test.site.store.editableArticle(id: article.id))
                    var first = editable.content
                    first.title = "Round \(round): the owner's headline"
                    var second = editable.content
                    second.title = "Round \(round): the editor's headline"
                    let base = editable.summary.version
                    async let one = outcome { try await test.site.store.saveArticle(
                        id: article.id, content: first, bodyHTML: "<p>owner</p>", basedOn: base, by: users[.owner]!) }
                    async let two = outcome { try await other.saveArticle(
                        id: article.id, content: second, bodyHTML: "<p>editor</p>", basedOn: base, by: users[.editor]!) }
                    let outcomes = await [one, two]
                    let winners = outcomes.compactMap { try? $0.get() }
                    #expect(winners.count == 1, "round \(round): exactly one save wins")
                    let conflicts = outcomes.compactMap { outcome -> EditConflict? in
                        if case .failure(let error) = outcome { return error as? EditConflict } else { return nil }
                    }
                    try #require(conflicts.count == 1, "round \(round): the other save is refused as a conflict")
                    #expect(conflicts[0].currentVersion == base + 1)
                    let winner = try #require(winners.first)
                    #expect(winner.version == base + 1)
                    let saved = try #require(try await test.site.store.editableArticle(id: article.id))
                    let keptID = try #require(conflicts[0].keptRevision)
                    let kept = try #require(try await test.site.store.revision(id: keptID))
                    #expect(kept.kind == .conflict)
                    #expect(Set([saved.content.title, kept.content.title]) == [first.title, second.title], "both texts are kept: one saved, one as a revision")
                }
            } catch {
                await other.close()
                throw error
            }
            await other.close()
        }
    }

    @Test func twoSchedulersPublishEachStoryOnceAndAnnounceItOnce() async throws {
        try await withTestSite { test in
            let (users, _) = try await NewsroomTests().seed(test)
            let store = test.site.store
            let section = try #require(try await store.section(slug: "world"))
            _ = try await store.addWebhook(url: "https://hooks.example/masthead", events: [.published])
            let earlier = Date.now.addingTimeInterval(-60)
            var scheduled: [Int64] = []
            for number in 1...12 {
                let draft = try await store.saveArticle(
                    id: nil, content: ArticleContent(title: "Scheduled story \(number)", sectionID: section.id),
                    bodyHTML: "<p>Story \(number).</p>", basedOn: nil, by: users[.owner]!)
                _ = try await store.applyWorkflow(.schedule(earlier.addingTimeInterval(30)), articleID: draft.id, by: users[.owner]!, now: earlier)
                scheduled.append(draft.id)
            }
            let eventsBefore = try await store.pendingArticleEvents(limit: 1000).count
            let other = try await secondInstance(test)
            async let one = store.publishDueArticles()
            async let two = other.publishDueArticles()
            let published = try await (one.map(\.id), two.map(\.id))
            await other.close()
            #expect((published.0 + published.1).sorted() == scheduled.sorted(), "each story is published by exactly one instance")
            let events = try await store.pendingArticleEvents(limit: 1000).dropFirst(eventsBefore)
            #expect(events.map(\.articleID).sorted() == scheduled.sorted(), "each publication is announced once")
            #expect(events.allSatisfy { $0.event == .published })
        }
    }

    @Test func instancesStartingTogetherMigrateOnce() async throws {
        try await withTestSite { test in
            let database: DatabaseURL = if let server = TestSite.postgresServerURL {
                .postgres(url: try await PostgresDatabases.create(on: server, logger: test.site.logger))
            } else {
                .sqlite(path: test.directory + "/fresh/masthead.sqlite")
            }
            let stores = [try await Store.open(database, logger: test.site.logger), try await Store.open(database, logger: test.site.logger)]
            async let first = outcome { try await stores[0].migrate() }
            async let second = outcome { try await stores[1].migrate() }
            let applied = await [first, second]
            for store in stores { await store.close() }
            let versions = try applied.map { try $0.get() }
            #expect((versions[0] + versions[1]).sorted() == Array(1...Store.schemaVersion), "every migration applied once, by one of them")
            if case .postgres(let url) = database { try await PostgresDatabases.drop(url, logger: test.site.logger) }
        }
    }

    @Test func failedSignInsOnTwoInstancesAreAllCounted() async throws {
        try await withTestSite { test in
            _ = try await NewsroomTests().seed(test)
            let other = try await secondInstance(test)
            let stores = [test.site.store, other]
            let email = "author@example.org"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for attempt in 0..<8 {
                    group.addTask {
                        _ = try await stores[attempt % 2].recordLoginFailure(email: email, window: 900, limit: 100, lockout: 60)
                    }
                }
                try await group.waitForAll()
            }
            await other.close()
            #expect(try await test.site.store.loginFailures(email: email, window: 900).failures == 8, "no failure lost to a race")
        }
    }

    @Test func twoImportsNamingANewSectionAndTagMakeOneOfEach() async throws {
        try await withTestSite { test in
            let other = try await Site.open(test.site.configuration, logger: test.site.logger)
            for number in 0..<6 {
                try test.writeArticle("race/\(number).md", frontMatter: [
                    "title: Night desk story \(number)", "section: Night Desk", "tags: [Late Shift]", "authors: [Noor Night]",
                ])
            }
            let paths = (0..<6).map { test.directory + "/race/\($0).md" }
            async let one = outcome { try await test.site.importer.importArticles(from: Array(paths[0..<3])) }
            async let two = outcome { try await other.importer.importArticles(from: Array(paths[3..<6])) }
            let imported = await [one, two]
            await other.store.close()
            for result in imported { _ = try result.get() }
            let store = test.site.store
            let sections = try await store.sections().filter { $0.slug == "night-desk" }
            #expect(sections.count == 1, "one Night Desk section")
            let stories = try await store.publishedArticles(.init(sectionID: try #require(sections.first).id), limit: 20)
            #expect(stories.count == 6)
            #expect(Set(stories.flatMap { $0.tags.map(\.slug) }) == ["late-shift"], "one Late Shift tag for all six")
            #expect(Set(stories.flatMap { $0.authors.map(\.slug) }) == ["noor-night"], "one Noor Night author for all six")
        }
    }
}
