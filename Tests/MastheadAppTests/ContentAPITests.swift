import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadTesting
import Testing

@Suite struct ContentAPITests {
    @Test func onlyConfiguredOriginsMayReadTheAPIFromABrowser() async throws {
        try await withTestSite(configuring: { $0.apiCORSOrigins = ["https://app.example.org"] }) { test in
            try test.writeArticle("a.md", frontMatter: ["title: One", "section: World"])
            try await test.importArticles(test.directory)
            let key = try await test.site.store.createContentKey(name: "App")
            try await buildApplication(site: test.site).test(.router) { client in
                let allowed = try await client.execute(uri: "/api/content/posts/?key=\(key)", method: .get, headers: [.origin: "https://app.example.org"])
                #expect(allowed.status == .ok)
                #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.org")
                #expect(allowed.headers[.vary] == "Origin")
                let other = try await client.execute(uri: "/api/content/posts/?key=\(key)", method: .get, headers: [.origin: "https://evil.example"])
                #expect(other.headers[.accessControlAllowOrigin] == nil)
                let write = try await client.execute(uri: "/api/content/posts/", method: .post)
                #expect(write.status == .methodNotAllowed)
                #expect(write.headers[.allow] == "GET, HEAD, OPTIONS")
                let badKey = try await client.execute(uri: "/api/content/posts/?key=0123456789abcdef0123456789", method: .get)
                #expect(badKey.status == .unauthorized)
            }
        }
    }
}

@Suite struct ContentAPIHostileInputTests {
    /// A published article per title, imported through the real importer.
    private func site(articles count: Int, _ body: (TestSite, String) async throws -> Void) async throws {
        try await withTestSite { test in
            for index in 0..<count {
                try test.writeArticle("a\(index).md", frontMatter: ["title: Story \(index)", "section: World", "tags: [China]", "date: 2026-01-\(String(format: "%02d", index + 1))"])
            }
            try await test.importArticles(test.directory)
            try await body(test, try await test.site.store.createContentKey(name: "Front end"))
        }
    }

    private func errorContext(_ response: TestResponse) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
        let errors = object?["errors"] as? [[String: Any]]
        #expect(errors?.first?["type"] as? String == "BadRequestError")
        return errors?.first?["context"] as? String ?? ""
    }

    @Test func deeplyNestedFiltersAreRefusedAndTheServerStaysUp() async throws {
        try await site(articles: 1) { test, key in
            try await buildApplication(site: test.site).test(.router) { client in
                let nested = String(repeating: "(", count: 60_000) + "tag:china" + String(repeating: ")", count: 60_000)
                let deep = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(nested)", method: .get)
                #expect(deep.status == .badRequest)
                #expect(try errorContext(deep).contains("longer than"))
                let nine = String(repeating: "(", count: 9) + "tag:china" + String(repeating: ")", count: 9)
                let tooDeep = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(nine)", method: .get)
                #expect(tooDeep.status == .badRequest)
                #expect(try errorContext(tooDeep).contains("parentheses"))
                let eight = String(repeating: "(", count: 8) + "tag:china" + String(repeating: ")", count: 8)
                let allowed = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(eight)", method: .get)
                #expect(allowed.status == .ok)
                let after = try await client.execute(uri: "/api/content/posts/?key=\(key)", method: .get)
                #expect(after.status == .ok)
            }
        }
    }

    @Test func longValueListsAndManyTermsAreRefusedWithTheReason() async throws {
        try await site(articles: 1) { test, key in
            try await buildApplication(site: test.site).test(.router) { client in
                let list = "tags:[" + (0..<201).map { "t\($0)" }.joined(separator: ",") + "]"
                let values = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(list)", method: .get)
                #expect(values.status == .badRequest)
                #expect(try errorContext(values).contains("values"))
                let terms = (0..<51).map { _ in "tag:china" }.joined(separator: ",")
                let many = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(terms)", method: .get)
                #expect(many.status == .badRequest)
                #expect(try errorContext(many).contains("terms"))
                let fine = "tags:[" + (0..<199).map { "t\($0)" }.joined(separator: ",") + ",china]"
                let answered = try await client.execute(uri: "/api/content/posts/?key=\(key)&filter=\(fine)", method: .get)
                #expect(answered.status == .ok)
            }
        }
    }

    @Test func paginationNextPointsAtTheFollowingPageAndEndsWithNull() async throws {
        try await site(articles: 5) { test, key in
            try await buildApplication(site: test.site).test(.router) { client in
                var page: Int? = 1
                var seen: [String] = []
                var requests = 0
                while let current = page, requests < 10 {
                    requests += 1
                    let response = try await client.execute(uri: "/api/content/posts/?key=\(key)&limit=2&page=\(current)", method: .get)
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    seen += ((object?["posts"] as? [[String: Any]]) ?? []).compactMap { $0["slug"] as? String }
                    let pagination = (object?["meta"] as? [String: Any])?["pagination"] as? [String: Any]
                    page = pagination?["next"] as? Int
                    if let next = page { #expect(next == current + 1) }
                }
                #expect(requests == 3, "a client following `next` reads 3 pages of 2 and stops")
                #expect(Set(seen).count == 5)
            }
        }
    }
}
