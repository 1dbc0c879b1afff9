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
