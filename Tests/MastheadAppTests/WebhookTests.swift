import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTesting
import NIOCore
import Synchronization
import Testing

/// What a receiving server saw, and what it answers next.
final class Receiver: Sendable {
    struct Seen: Sendable {
        var headers: HTTPFields
        var body: String
    }

    let state = Mutex<(seen: [Seen], answers: [HTTPResponse.Status])>(([], []))

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("/hook") { request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1_000_000))
            let status = self.state.withLock { state -> HTTPResponse.Status in
                state.seen.append(Seen(headers: request.headers, body: body))
                return state.answers.isEmpty ? .ok : state.answers.removeFirst()
            }
            return Response(status: status)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    var seen: [Seen] { state.withLock { $0.seen } }
}

@Suite struct WebhookTests {
    func publishedArticle(_ test: TestSite) async throws -> Article {
        try test.writeArticle("a.md", frontMatter: ["title: Harbour strike ends", "section: World", "tags: [Labour]", "authors: [Amara Okafor]"])
        try await test.importArticles(test.directory + "/a.md")
        return try #require(try await test.site.store.article(slug: "harbour-strike-ends"))
    }

    @Test func deliveriesAreSignedAndRetriedUntilTheyArrive() async throws {
        try await withTestSite { test in
            let article = try await publishedArticle(test)
            let receiver = Receiver()
            receiver.state.withLock { $0.answers = [.internalServerError] }
            try await receiver.application().test(.live) { client in
                let url = "http://127.0.0.1:\(client.port!)/hook"
                let (_, secret) = try await test.site.store.addWebhook(url: url, events: [.published, .deleted])
                _ = try await test.site.store.addWebhook(url: url + "?other", events: [.unpublished])
                await test.site.webhooks.announce(.published, article: article)
                var due = try await test.site.store.dueDeliveries()
                #expect(due.count == 1, "only the hook that listens to article.published gets it")

                let dispatcher = WebhookDispatcher(store: test.site.store, logger: test.site.logger, backoff: [10, 60], allowPrivateAddresses: true)
                await dispatcher.send(due[0])
                var log = try await test.site.store.recentDeliveries()
                #expect(log[0].state == .pending && log[0].attempts == 1 && log[0].lastStatus == 500)
                #expect(log[0].nextAttemptAt.timeIntervalSinceNow > 5, "the retry waits")
                #expect(try await test.site.store.dueDeliveries().isEmpty)

                due = try await test.site.store.dueDeliveries(now: .now.addingTimeInterval(11))
                await dispatcher.send(due[0])
                log = try await test.site.store.recentDeliveries()
                #expect(log[0].state == .delivered && log[0].attempts == 2 && log[0].lastStatus == 200)

                let request = try #require(receiver.seen.last)
                #expect(request.headers[HTTPField.Name("Masthead-Event")!] == "article.published")
                let signature = try #require(request.headers[HTTPField.Name("Masthead-Signature")!])
                let parts = Dictionary(uniqueKeysWithValues: signature.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }.map { ($0[0], $0[1]) })
                let expected = Array(HMAC<SHA256>.authenticationCode(
                    for: Data("\(parts["t"]!).\(request.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))).hexEncoded
                #expect(parts["v1"] == expected)
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
                #expect(payload["event"] as? String == "article.published")
                #expect((payload["article"] as? [String: Any])?["url"] as? String == "http://news.test/world/harbour-strike-ends/")
                let purge = try #require(payload["purge_urls"] as? [String])
                #expect(purge.contains("http://news.test/tag/labour/") && purge.contains("http://news.test/world/feed/"))
            }
        }
    }

    @Test func aDeliveryThatNeverArrivesIsMarkedFailedAndCanBeSentAgain() async throws {
        try await withTestSite { test in
            let article = try await publishedArticle(test)
            // Nothing listens on this port.
            _ = try await test.site.store.addWebhook(url: "http://127.0.0.1:9/hook", events: ArticleEvent.allCases)
            await test.site.webhooks.announce(.updated, article: article)
            let dispatcher = WebhookDispatcher(
                store: test.site.store, logger: test.site.logger, backoff: [1], allowPrivateAddresses: true, connectTimeout: .seconds(1))
            for later in [0.0, 2.0] {
                for delivery in try await test.site.store.dueDeliveries(now: .now.addingTimeInterval(later)) { await dispatcher.send(delivery) }
            }
            let failed = try #require(try await test.site.store.recentDeliveries().first)
            #expect(failed.state == .failed && failed.attempts == 2)
            #expect(failed.lastError?.isEmpty == false)
            try await test.site.store.retryDelivery(id: failed.id)
            #expect(try await test.site.store.dueDeliveries().map(\.id) == [failed.id])
        }
    }

    @Test func newsroomChangesAreAnnounced() async throws {
        try await withTestSite { test in
            let store = test.site.store
            _ = try await store.addWebhook(url: "https://hooks.example/cdn", events: ArticleEvent.allCases)
            let owner = try await store.addUser(email: "o@example.org", name: "Olive Owner", role: .owner, passwordHash: nil)
            let (key, _) = try await store.createAPIKey(userID: owner.id, name: "Tests")
            _ = try await store.addSection(name: "World")
            try await buildApplication(site: test.site).test(.router) { client in
                let headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
                let created = try await client.execute(
                    uri: "/api/admin/articles/", method: .post, headers: headers, body: ByteBuffer(string: #"{"title": "Ferry news", "section": "world"}"#))
                #expect(created.status == .created)
                #expect(try await store.recentDeliveries().isEmpty, "a draft is nobody's news")
                for step in ["publish", "unpublish", "publish"] {
                    #expect(try await client.execute(uri: "/api/admin/articles/1/\(step)", method: .post, headers: headers).status == .ok)
                }
                _ = try await client.execute(
                    uri: "/api/admin/articles/1/", method: .put, headers: headers, body: ByteBuffer(string: #"{"summary": "New dek", "version": 1}"#))
                _ = try await client.execute(uri: "/api/admin/articles/1/", method: .delete, headers: headers)
                // (Read before the application stops and closes the store.)
                let events = try await store.recentDeliveries().reversed().map(\.event)
                #expect(events == ["article.published", "article.unpublished", "article.published", "article.updated", "article.deleted"])
            }
        }
    }

    @Test func importsAreAnnouncedOnlyOnceTheyCommit() async throws {
        try await withTestSite { test in
            let store = test.site.store
            _ = try await store.addWebhook(url: "https://hooks.example/cdn", events: ArticleEvent.allCases)
            try test.writeArticle("in/a.md", frontMatter: ["title: Ferry news", "section: World"])
            try test.writeArticle("in/b.md", frontMatter: ["title: Draft news", "section: World", "status: draft"])
            try await test.importArticles(test.directory + "/in")
            // A second import that fails (a bad file) changes nothing and announces nothing.
            try test.writeArticle("in/c.md", frontMatter: ["title: Late news", "section: World"])
            try "not front matter".write(toFile: test.directory + "/in/d.md", atomically: true, encoding: .utf8)
            await #expect(throws: MastheadError.self) { try await test.importArticles(test.directory + "/in") }
            await test.site.webhooks.announceRecordedEvents()
            #expect(try await store.recentDeliveries().map(\.event) == ["article.published"], "only the published story, once")
            // Imported again, unchanged: nothing new to announce; changed: an update.
            try FileManager.default.removeItem(atPath: test.directory + "/in/d.md")
            try FileManager.default.removeItem(atPath: test.directory + "/in/c.md")
            try test.writeArticle("in/a.md", frontMatter: ["title: Ferry news", "section: World", "summary: Now with a dek"])
            try await test.importArticles(test.directory + "/in")
            await test.site.webhooks.announceRecordedEvents()
            #expect(try await store.recentDeliveries().reversed().map(\.event) == ["article.published", "article.updated"])
        }
    }
}
