import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTesting
import Testing

/// `masthead db copy`: a site moved to another database reads the same, and a target that holds
/// anything is refused untouched. On SQLite alone the copy goes to a new SQLite file; when the
/// tests have a PostgreSQL server, also to and from PostgreSQL.
@Suite struct DatabaseCopyTests {
    /// Empty databases to copy into: a new SQLite file, and a new PostgreSQL database when there is a server.
    func emptyTargets(_ test: TestSite) async throws -> [DatabaseURL] {
        var targets: [DatabaseURL] = [.sqlite(path: test.directory + "/copy/masthead.sqlite")]
        if let server = TestSite.postgresServerURL {
            targets.append(.postgres(url: try await PostgresDatabases.create(on: server, logger: test.site.logger)))
        }
        return targets
    }

    /// The pages at `paths` (status and body) as `site` serves them. Serving ends by closing the
    /// site's store, so this is the last thing done with a site.
    func pages(_ site: Site, _ paths: [String]) async throws -> [String: (HTTPResponse.Status, String)] {
        try await buildApplication(site: site).test(.router) { client in
            var pages: [String: (HTTPResponse.Status, String)] = [:]
            for path in paths {
                let reply = try await client.execute(uri: path, method: .get)
                pages[path] = (reply.status, String(buffer: reply.body))
            }
            return pages
        }
    }

    @Test func aCopiedSiteReadsTheSameAndSearchesAndGoesOn() async throws {
        try await withTestSite { test in
            let (users, draft) = try await NewsroomTests().seed(test)
            for number in 1...7 {
                try test.writeArticle("copy/story-\(number).md", frontMatter: [
                    "title: Harbour story \(number) with ünïcode", "slug: harbour-story-\(number)",
                    "section: \(number % 2 == 0 ? "World" : "Science")",
                    "tags: [Ports, Tag \(number % 3)]", "authors: [Amara Okafor]", "summary: Dek \(number) — \"quoted\"",
                ], body: "Body of story \(number): the zygomorphic flowers near the <harbour> wall.")
            }
            try await test.importArticles(test.directory + "/copy")
            let store = test.site.store
            let story = try #require(try await store.article(slug: "harbour-story-3"))
            _ = try await store.addCorrection(articleID: story.id, kind: .correction, text: "An earlier version misspelt the harbour.")
            let targets = try await emptyTargets(test)
            for target in targets {
                let copyStore = try await Store.open(target, logger: test.site.logger)
                try await copyStore.migrate()
                let tables = try await DatabaseCopy(from: store, to: copyStore).run()
                await copyStore.close()
                #expect(tables.first { $0.name == "article" }?.rows == 8, "\(target)")
                #expect(tables.first { $0.name == "correction" }?.rows == 1, "\(target)")
            }
            let paths = ["/", "/world/", "/tag/ports/", "/science/harbour-story-3/", "/sitemap.xml", "/feed/"]
            let originals = try await pages(test.site, paths)
            for target in targets {
                var configuration = test.site.configuration
                configuration.database = target
                let copy = try await Site.open(configuration, logger: test.site.logger)
                let found = try await copy.store.search(SearchQuery(text: "zygomorphic"), limit: 20)
                #expect(found.total == 7, "the search index is built on \(target)")
                #expect(try await copy.store.credentials(email: "owner@example.org")?.passwordHash != nil, "accounts came along")
                let copied = try await pages(copy, paths)
                for path in paths {
                    #expect(originals[path]?.0 == .ok && copied[path]?.0 == .ok, "\(path) on \(target)")
                    #expect(copied[path]?.1 == originals[path]?.1, "\(path) reads the same on \(target)")
                }
                // New rows go on after the copied ones.
                let reopened = try await Store.open(target, logger: test.site.logger)
                let section = try #require(try await reopened.section(slug: "world"))
                let next = try await reopened.saveArticle(
                    id: nil, content: ArticleContent(title: "After the move", sectionID: section.id), bodyHTML: "<p>x</p>",
                    basedOn: nil, by: users[.owner]!)
                #expect(next.id > draft.id && next.id > story.id)
                await reopened.close()
                if case .postgres(let url) = target { try await PostgresDatabases.drop(url, logger: test.site.logger) }
            }
        }
    }

    @Test func aTargetThatHoldsAnythingIsRefusedUntouched() async throws {
        try await withTestSite { test in
            _ = try await NewsroomTests().seed(test)
            for target in try await emptyTargets(test) {
                let copyStore = try await Store.open(target, logger: test.site.logger)
                try await copyStore.migrate()
                _ = try await copyStore.addSection(name: "Already here")
                let error = await #expect(throws: MastheadError.self) { try await DatabaseCopy(from: test.site.store, to: copyStore).run() }
                #expect(error?.message.contains("not empty") == true, "\(String(describing: error))")
                #expect(error?.message.contains("section") == true)
                #expect(try await copyStore.isEmpty(), "nothing was copied into \(target)")
                #expect(try await copyStore.section(slug: "already-here") != nil)
                await copyStore.close()
                if case .postgres(let url) = target { try await PostgresDatabases.drop(url, logger: test.site.logger) }
            }
        }
    }
}
