import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTesting
import NIOCore
import Testing

@Suite struct PrivacyTests {
    func seed(_ test: TestSite) async throws {
        try test.writeArticle("video.md", frontMatter: ["title: Bees on film", "section: Science"], body: "Intro.\n\nhttps://www.youtube.com/watch?v=aqz-KE-bpKQ\n")
        try await test.importArticles(test.directory + "/video.md")
    }

    func form(_ fields: String, origin: String? = nil) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .referer: "http://news.test/science/bees-on-film/"]
        if let origin { headers[.origin] = origin }
        return headers
    }

    @Test func noticeFirstThenTheChoiceDecidesWhatLoads() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let first = try await client.execute(uri: "/science/bees-on-film/", method: .get)
                let html = String(buffer: first.body)
                #expect(html.contains(#"class="consent-notice""#) && html.contains(">Reject all</button>") && html.contains(">Accept all</button>"))
                #expect(html.contains("embed__placeholder") && !html.contains("<iframe"))
                #expect(first.headers[.setCookie] == nil)
                #expect(first.headers[.contentSecurityPolicy]?.contains("script-src 'none'") == true)
                #expect(first.headers[.vary]?.contains("Cookie") == true)

                let accepted = try await client.execute(
                    uri: "/consent/", method: .post, headers: form(""), body: ByteBuffer(string: "choice=accept"))
                #expect(accepted.status == .seeOther)
                #expect(accepted.headers[.location] == "/science/bees-on-film/")
                let cookie = try #require(accepted.headers[.setCookie]).split(separator: ";")[0]
                #expect(cookie.hasPrefix("masthead_consent=v1.") && cookie.contains("audience-marketing-media"))

                let after = try await client.execute(uri: "/science/bees-on-film/", method: .get, headers: [.cookie: String(cookie)])
                let page = String(buffer: after.body)
                #expect(!page.contains(#"class="consent-notice""#))
                #expect(page.contains(#"<iframe src="https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ""#))
                #expect(after.headers[.contentSecurityPolicy]?.contains("frame-src 'self' https://www.youtube-nocookie.com") == true)

                let signal = try await client.execute(
                    uri: "/science/bees-on-film/", method: .get, headers: [.cookie: String(cookie), HTTPField.Name("Sec-GPC")!: "1"])
                #expect(!String(buffer: signal.body).contains("<iframe"))
                #expect(String(buffer: signal.body).contains("Global Privacy Control"))
                #expect(signal.headers[.contentSecurityPolicy]?.contains("youtube") == false)

                // The first reader's cached page (with the notice) is still what a new reader gets.
                #expect(String(buffer: try await client.execute(uri: "/science/bees-on-film/", method: .get).body).contains(#"class="consent-notice""#))

                let records = try await test.site.store.consentRecords()
                #expect(records.count == 1 && records[0].action == "accept" && records[0].granted == ["audience", "marketing", "media"])
            }
        }
    }

    @Test func choicesFromOtherSitesOrWithoutAChoiceAreRefused() async throws {
        try await withTestSite { test in
            try await buildApplication(site: test.site).test(.router) { client in
                let forged = try await client.execute(
                    uri: "/consent/", method: .post, headers: form("", origin: "https://evil.example"), body: ByteBuffer(string: "choice=accept"))
                #expect(forged.status == .forbidden && forged.headers[.setCookie] == nil)
                var crossSite = form("")
                crossSite[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
                #expect(try await client.execute(uri: "/consent/", method: .post, headers: crossSite, body: ByteBuffer(string: "choice=accept")).status == .forbidden)
                #expect(try await client.execute(uri: "/consent/", method: .post, headers: form(""), body: ByteBuffer(string: "choice=maybe")).status == .badRequest)
                #expect(try await test.site.store.consentRecords().isEmpty)
                let settings = try await client.execute(uri: "/consent/", method: .get)
                #expect(settings.status == .ok && String(buffer: settings.body).contains(#"id="consent-media" name="categories" value="media">"#))
            }
        }
    }

    @Test func pageViewsAreCountedWithoutAnythingPersonal() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                func visit(_ path: String, _ agent: String, referrer: String? = nil) async throws {
                    var headers: HTTPFields = [.userAgent: agent]
                    if let referrer { headers[.referer] = referrer }
                    #expect(try await client.execute(uri: path, method: .get, headers: headers).status == .ok)
                }
                try await visit("/", "Reader A")
                try await visit("/science/bees-on-film/", "Reader A", referrer: "http://news.test/")
                try await visit("/science/bees-on-film/", "Reader B", referrer: "https://www.social.example/x?id=secret")
                try await visit("/science/bees-on-film/", "Reader B")
                try await visit("/science/bees-on-film/", "ExampleBot/1.0 (+https://example.org/bot)")
                _ = try await client.execute(uri: "/feed/", method: .get, headers: [.userAgent: "Reader A"])
                _ = try await client.execute(uri: "/healthz", method: .get, headers: [.userAgent: "Reader A"])
                try await test.site.audience.flush()
                let day = test.site.audience.day(of: .now)
                let report = try await test.site.store.audienceReport(from: day, until: day)
                #expect(report.views == 4 && report.visitors == 2)
                #expect(report.pages.first { $0.path == "/science/bees-on-film/" }.map { [$0.views, $0.visitors] } == [3, 2])
                #expect(report.pages.first { $0.path == "/" }.map { [$0.views, $0.visitors] } == [1, 1])
                #expect(Dictionary(uniqueKeysWithValues: report.referrers.map { ($0.domain, $0.views) }) == ["direct": 2, "internal": 1, "social.example": 1])
            }
        }
    }
}
