import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadTesting
import NIOCore
import Testing

@Suite struct PublicSiteTests {
    /// Imports a small newsroom: two World stories (one with image, disclaimer and tags), one Science story.
    func seed(_ test: TestSite) async throws {
        try test.writeJPEG("content/harbour.jpg", width: 640, height: 360)
        try test.writeArticle("content/a.md", frontMatter: [
            "title: Harbour strike ends", "section: World", "tags: [Labour, Climate change]",
            "authors: [Amara Okafor, Dev Raman, Grace Mwangi]", "date: 2026-11-20T10:00:00Z",
            "summary: Dockers accepted a pay deal.", "image: harbour.jpg", "image_alt: Cranes at the harbour",
            "image_caption: Idle cranes.", "image_credit: \"Photo: Test Desk\"", "disclaimer: true",
        ], body: "First paragraph of the **strike** story.\n\n<script>alert(1)</script>\n")
        try test.writeArticle("content/b.md", frontMatter: [
            "title: Ferry timetable changes", "section: World", "tags: [Labour]", "date: 2026-11-19T10:00:00Z",
        ])
        try test.writeArticle("content/c.md", frontMatter: [
            "title: Bees return to the city", "section: Science", "date: 2026-11-21T10:00:00Z",
        ])
        try await test.importArticles(test.directory + "/content")
    }

    /// Imports `file` as another process would (`masthead import-markdown` beside the server):
    /// through a store of its own on the same database file.
    func importFromAnotherProcess(_ file: String, into test: TestSite) async throws {
        let other = try await Site.open(test.site.configuration, logger: test.site.logger)
        do {
            _ = try await other.importer.importArticles(from: [file])
            await other.store.close()
        } catch {
            await other.store.close()
            throw error
        }
    }

    func get(_ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers)
    }

    @Test func articlePageHasEveryElementInReadingOrder() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await test.site.store.addCorrection(articleSlug: "harbour-strike-ends", kind: .correction, text: "The deal runs two years, not three.")
            let app = buildApplication(site: test.site)
            try await app.test(.router) { client in
                let response = try await get(client, "/world/harbour-strike-ends/")
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                let markers = [
                    ##"<a class="skip-link" href="#content">Skip to content</a>"##,
                    #"<nav class="site-nav" aria-label="Sections">"#,
                    #"<h1 class="article__title">Harbour strike ends</h1>"#,
                    #"<p class="dek">Dockers accepted a pay deal.</p>"#,
                    #"By <a rel="author" href="/author/amara-okafor/">Amara Okafor</a>, <a rel="author" href="/author/dev-raman/">Dev Raman</a> and <a rel="author" href="/author/grace-mwangi/">Grace Mwangi</a>"#,
                    #"<time datetime="2026-11-20T10:00:00Z">"#,
                    "Updated <time",
                    #"srcset="/img/-/w320/harbour-strike-ends/harbour.jpg 320w, /img/-/w480/harbour-strike-ends/harbour.jpg 480w, /img/-/w640/harbour-strike-ends/harbour.jpg 640w""#,
                    #"alt="Cranes at the harbour""#,
                    #"width="640" height="360""#,
                    "Idle cranes.", "Photo: Test Desk",
                    "First paragraph of the <strong>strike</strong> story.",
                    "&lt;script&gt;alert(1)&lt;/script&gt;",
                    "The deal runs two years, not three.",
                    #"Check out other articles in our <a href="/world/">World</a> section."#,
                    #"<a href="/world/ferry-timetable-changes/">Ferry timetable changes</a>"#,
                    #"<a href="/tag/labour/" rel="tag">#Labour</a>"#,
                    #"<a href="/tag/climate-change/" rel="tag">#ClimateChange</a>"#,
                    #"<p class="disclaimer" role="note">\#(SiteSettings.defaultDisclaimer)</p>"#,
                    #"<a href="/tips/">Have a tip we should know?</a>"#,
                    #"<section class="consent-notice""#,
                    #"<footer class="site-footer">"#,
                ]
                var position = html.startIndex
                for marker in markers {
                    let found = html.range(of: marker, range: position..<html.endIndex)
                    #expect(found != nil, "missing or out of order: \(marker)")
                    if let found { position = found.upperBound }
                }
                #expect(html.components(separatedBy: "<h1").count == 2, "exactly one h1")
                #expect(!html.contains("<script>"))
                #expect(response.headers[.setCookie] == nil)
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'none'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func articleWithoutDisclaimerOrCorrectionsShowsNeither() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let html = String(buffer: try await get(client, "/world/ferry-timetable-changes/").body)
                #expect(!html.contains("class=\"disclaimer\""))
                #expect(html.contains(#"<section class="corrections" aria-labelledby="corrections-heading" hidden>"#))
                #expect(!html.contains("Updated <time"))
            }
        }
    }

    @Test func everyPageTypeAnswers() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await test.site.store.savePage(slug: "about", title: "About us", summary: "", markdown: "Hi", html: "<p>Hi</p>")
            try await buildApplication(site: test.site).test(.router) { client in
                let pages: [(String, String)] = [
                    ("/", "Harbour strike ends"), ("/world/", "Ferry timetable changes"), ("/science/", "Bees return"),
                    ("/tag/labour/", "#Labour"), ("/author/amara-okafor/", "Amara Okafor"), ("/about/", "About us"),
                    ("/tips/", "Have a tip we should know?"), ("/healthz", "\"status\":\"ok\""), ("/readyz", "\"status\":\"ready\""),
                ]
                for (path, text) in pages {
                    let response = try await get(client, path)
                    #expect(response.status == .ok, "\(path)")
                    #expect(String(buffer: response.body).contains(text), "\(path) should show \(text)")
                }
            }
        }
    }

    @Test func readinessFollowsTheDatabaseAndHealthTheProcess() async throws {
        try await withTestSite { test in
            try await buildApplication(site: test.site).test(.router) { client in
                #expect(try await get(client, "/readyz").status == .ok)
                // The database goes away: the process still serves, but readers should go elsewhere.
                await test.site.store.close()
                let ready = try await get(client, "/readyz")
                #expect(ready.status == .serviceUnavailable)
                #expect(String(buffer: ready.body) == #"{"status":"unavailable"}"#)
                #expect(try await get(client, "/healthz").status == .ok)
            }
        }
    }

    @Test func everyFooterLinkLeadsSomewhereOnANewSite() async throws {
        try await withTestSite { test in
            try await test.site.ensureDefaultPages()
            try await buildApplication(site: test.site).test(.router) { client in
                let home = String(buffer: try await get(client, "/").body)
                let footer = try #require(home.range(of: "<footer"))
                let links = home[footer.lowerBound...].matches(of: /href="(\/[^"]*)"/).map { String($0.output.1) }
                #expect(links.count >= 3)
                for link in links {
                    #expect(try await get(client, link).status == .ok, "\(link)")
                }
                #expect(links.contains("/consent/") && links.contains("/privacy/"))
                #expect(String(buffer: try await get(client, "/privacy/").body).contains("stores <strong>nothing</strong> on your device"))
            }
        }
    }

    @Test func unknownAddressesGetTheThemedNotFoundPage() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                for path in ["/nowhere/", "/world/no-such-story/", "/tag/none/", "/author/nobody/", "/world/page/2/", "/world/page/x/", "/a/b/c/d/"] {
                    let response = try await get(client, path)
                    #expect(response.status == .notFound, "\(path)")
                    let html = String(buffer: response.body)
                    #expect(html.contains("We can’t find that page"), "\(path)")
                    #expect(html.contains(#"<a href="/world/">World</a>"#), "the 404 page keeps the navigation")
                }
            }
        }
    }

    @Test func serverErrorPageLeaksNothing() async throws {
        try await withTestSite { test in
            try await seed(test)
            let app = buildApplication(site: test.site)
            // With the database gone, every page fails: the reader must see no detail of why.
            await test.site.store.close()
            try await app.test(.router) { client in
                let response = try await get(client, "/world/harbour-strike-ends/")
                let html = String(buffer: response.body)
                if TestSite.onPostgres {
                    // A closed pool reads as a database that cannot be reached: 503, said plainly.
                    #expect(response.status == .serviceUnavailable)
                    #expect(html.contains("database cannot be reached just now"))
                } else {
                    #expect(response.status == .internalServerError)
                    #expect(html.contains("Something went wrong") || html.contains("something went wrong"))
                }
                for secret in ["SQLite", "sqlite", "masthead.sqlite", test.directory, "Error(", "Store", ".swift"] {
                    #expect(!html.contains(secret), "500 page leaks \(secret)")
                }
                #expect(try await get(client, "/readyz").status == .serviceUnavailable)
            }
        }
    }

    @Test func storiesThatChangedSectionRedirectToTheirNewAddress() async throws {
        try await withTestSite { test in
            try await seed(test)
            try test.writeArticle("content/b.md", frontMatter: ["title: Ferry timetable changes", "section: Business"])
            try await test.importArticles(test.directory + "/content/b.md")
            try await buildApplication(site: test.site).test(.router) { client in
                let moved = try await get(client, "/world/ferry-timetable-changes/")
                #expect(moved.status == .movedPermanently)
                #expect(moved.headers[.location] == "/business/ferry-timetable-changes/")
                #expect(try await get(client, "/business/ferry-timetable-changes/").status == .ok)
                let noSlash = try await get(client, "/business/ferry-timetable-changes")
                #expect(noSlash.status == .movedPermanently)
                #expect(noSlash.headers[.location] == "/business/ferry-timetable-changes/")
            }
        }
    }

    @Test func draftsAndFutureStoriesStayHidden() async throws {
        try await withTestSite { test in
            try test.writeArticle("d.md", frontMatter: ["title: Secret draft", "section: World", "status: draft"])
            try test.writeArticle("f.md", frontMatter: ["title: Embargoed", "section: World", "date: 2099-01-01"])
            try await test.importArticles(test.directory)
            try await buildApplication(site: test.site).test(.router) { client in
                #expect(try await get(client, "/world/secret-draft/").status == .notFound)
                #expect(try await get(client, "/world/embargoed/").status == .notFound)
                let home = String(buffer: try await get(client, "/").body)
                #expect(!home.contains("Secret draft"))
                #expect(!home.contains("Embargoed"))
            }
        }
    }

    @Test func listsArePaginated() async throws {
        try await withTestSite { test in
            for index in 1...14 {
                try test.writeArticle("s/\(index).md", frontMatter: [
                    "title: Story number \(index)", "section: World", "tags: [Busy]", "date: 2026-11-\(String(format: "%02d", index))T08:00:00Z",
                ])
            }
            try await test.importArticles(test.directory + "/s")
            try await buildApplication(site: test.site).test(.router) { client in
                let first = String(buffer: try await get(client, "/world/").body)
                #expect(first.contains("Story number 14"))
                #expect(!first.contains("Story number 2<"))
                #expect(first.contains(#"<a rel="next" href="/world/page/2/">"#))
                let second = String(buffer: try await get(client, "/world/page/2/").body)
                #expect(second.contains("Story number 2<"))
                #expect(second.contains("Story number 1<"))
                #expect(second.contains(#"<a rel="prev" href="/world/">"#))
                #expect(try await get(client, "/tag/busy/page/2/").status == .ok)
                #expect(try await get(client, "/world/page/3/").status == .notFound)
            }
        }
    }

    @Test func cachedPagesHaveValidatorsAndAnswerConditionalRequestsAndGzip() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let first = try await get(client, "/world/harbour-strike-ends/")
                let etag = try #require(first.headers[.eTag])
                #expect(first.headers[.lastModified] != nil)
                #expect(first.headers[.cacheControl]?.contains("max-age=") == true)
                #expect(first.headers[.vary] == "Accept-Encoding, Cookie, Sec-GPC, DNT")

                let again = try await get(client, "/world/harbour-strike-ends/", headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified)
                #expect(again.body.readableBytes == 0)

                let zipped = try await get(client, "/world/harbour-strike-ends/", headers: [.acceptEncoding: "br, gzip"])
                #expect(zipped.headers[.contentEncoding] == "gzip")
                #expect(zipped.body.readableBytes < first.body.readableBytes)
                #expect(zipped.body.readableBytesView.starts(with: [0x1f, 0x8b]))
                #expect(test.site.cache.count >= 1)
            }
        }
    }

    @Test func aCachedPageIsServedWithoutTouchingTheDatabase() async throws {
        try await withTestSite { test in
            try await seed(test)
            let app = buildApplication(site: test.site)
            try await app.test(.router) { client in
                let paths = ["/", "/world/", "/world/harbour-strike-ends/", "/tag/labour/", "/author/amara-okafor/"]
                var first: [String: String] = [:]
                for path in paths { first[path] = String(buffer: try await get(client, path).body) }
                // With the database closed, only the cache can answer.
                await test.site.store.close()
                for path in paths {
                    let response = try await get(client, path)
                    #expect(response.status == .ok, "\(path)")
                    #expect(String(buffer: response.body) == first[path])
                }
            }
        }
    }

    @Test func contentChangesFromAnotherProcessReachTheSiteWithinASecond() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site, watchInterval: .milliseconds(100)).test(.router) { client in
                #expect(!String(buffer: try await get(client, "/").body).contains("Breaking: valley floods"))
                // Another process: its own store on the same database file, as `masthead import-markdown` has.
                let file = try test.writeArticle("late/news.md", frontMatter: ["title: \"Breaking: valley floods\"", "section: World"])
                try await importFromAnotherProcess(file, into: test)
                let start = ContinuousClock.now
                var seen = false
                while !seen && ContinuousClock.now - start < .seconds(1) {
                    try await Task.sleep(for: .milliseconds(50))
                    seen = String(buffer: try await get(client, "/").body).contains("Breaking: valley floods")
                }
                #expect(seen, "the home page shows the new story within a second")
            }
        }
    }

    @Test func aNewStoryForgetsOnlyThePagesThatShowIt() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site, watchInterval: .milliseconds(100)).test(.router) { client in
                let unrelated = ["/science/bees-return-to-the-city/", "/science/", "/world/harbour-strike-ends/"]
                for path in unrelated + ["/", "/world/", "/tag/labour/", "/feed/", "/sitemap.xml"] {
                    #expect(try await get(client, path).status == .ok, "\(path)")
                }
                let file = try test.writeArticle("late/news.md", frontMatter: [
                    "title: \"Breaking: valley floods\"", "section: World", "tags: [Labour]", "date: 2026-11-22T10:00:00Z",
                ])
                try await importFromAnotherProcess(file, into: test)
                let start = ContinuousClock.now
                while test.site.cache.paths.contains("/world/"), ContinuousClock.now - start < .seconds(2) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let kept = test.site.cache.paths
                for path in ["/", "/world/", "/tag/labour/", "/feed/", "/sitemap.xml"] {
                    #expect(!kept.contains(path), "\(path) shows the new story, so it is rendered again")
                }
                for path in ["/", "/world/", "/tag/labour/", "/feed/"] {
                    #expect(String(buffer: try await get(client, path).body).contains("valley floods"), "\(path)")
                }
                // Pages that do not list the new story stay cached (the article page's related block follows within page_cache_seconds).
                for path in unrelated { #expect(kept.contains(path), "\(path) stays cached") }
            }
        }
    }

    @Test func takingAStoryDownForgetsEveryPage() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site, watchInterval: .milliseconds(100)).test(.router) { client in
                for path in ["/science/bees-return-to-the-city/", "/world/ferry-timetable-changes/"] {
                    #expect(try await get(client, path).status == .ok)
                }
                #expect(String(buffer: try await get(client, "/world/ferry-timetable-changes/").body).contains("Harbour strike ends"))
                let editor = try await test.site.store.addUser(email: "ed@news.example", name: "Ed", role: .editor, passwordHash: nil)
                let story = try #require(try await test.site.store.article(slug: "harbour-strike-ends"))
                try await test.site.store.applyWorkflow(.unpublish, articleID: story.id, by: editor)
                let start = ContinuousClock.now
                while test.site.cache.count > 0, ContinuousClock.now - start < .seconds(2) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(test.site.cache.count == 0)
                #expect(!String(buffer: try await get(client, "/world/ferry-timetable-changes/").body).contains("Harbour strike ends"))
            }
        }
    }

    @Test func assetsAndMediaAreServedWithCachingHeaders() async throws {
        try await withTestSite { test in
            try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let css = try await get(client, "/assets/site.css")
                #expect(css.status == .ok)
                #expect(css.headers[.cacheControl]?.contains("immutable") == true)
                let image = try await get(client, "/media/harbour-strike-ends/harbour.jpg")
                #expect(image.status == .ok)
                #expect(image.body.readableBytesView.starts(with: [0xFF, 0xD8]))
                #expect(try await get(client, "/media/../masthead.sqlite").status != .ok)
            }
        }
    }
}
