import Foundation
import NIOCore
import Testing

@testable import MastheadApp

/// The pure parts of feeds and `export-static`: absolute links for feed readers, the links an
/// export follows, and where each address is written.
@Suite struct StaticExportTests {
    @Test func feedBodiesGetAbsoluteLinksOnlyForTheSitesOwnAddresses() {
        let html = #"<p><a href="/world/x/">x</a> <a href="https://other.example/">o</a> <a href="//cdn.example/a">c</a></p>"#
            + #"<img src="/img/-/w800/a.jpg" srcset="/img/-/w320/a.jpg 320w, /img/-/w640/a.jpg 640w" alt="/not/a/link">"#
        let absolute = FeedsController.absolutize(html, base: "https://news.example")
        #expect(absolute == #"<p><a href="https://news.example/world/x/">x</a> <a href="https://other.example/">o</a> <a href="//cdn.example/a">c</a></p>"#
            + #"<img src="https://news.example/img/-/w800/a.jpg" srcset="https://news.example/img/-/w320/a.jpg 320w, https://news.example/img/-/w640/a.jpg 640w" alt="/not/a/link">"#)
        #expect(FeedsController.absolutize("café – /plain text/", base: "https://news.example") == "café – /plain text/")
    }

    @Test func theExportFollowsTheSitesOwnLinksAndLeavesTheServersToIt() {
        let page = ByteBuffer(string: """
            <link rel="alternate" href="/world/feed/"><a href="/world/page/2/#top">next</a>
            <a href="/search/?q=x">s</a> <a href="/tips/">tip</a> <a href="/consent/">c</a> <a href="https://other.example/a/">o</a>
            <img src="/img/-/w800/a.jpg" srcset="/img/-/w320/a.jpg 320w, /img/-/w640/a.jpg 640w">
            <meta property="og:image" content="https://news.example/img/sig/w1200-h630-cover/a.jpg">
            <script type="application/ld+json">{"url":"https://news.example/world/x/"}</script>
            <a href="/assets/site.css?v=1">css</a> <a href="/admin/">admin</a>
            """)
        let links = StaticExporter.links(in: page, base: "https://news.example")
        #expect(links == [
            "/world/feed/", "/world/page/2/", "/img/-/w800/a.jpg", "/img/-/w320/a.jpg", "/img/-/w640/a.jpg",
            "/img/sig/w1200-h630-cover/a.jpg", "/world/x/",
        ])
        let sitemap = ByteBuffer(string: "<urlset><url><loc>https://news.example/tag/caf%C3%A9/</loc></url></urlset>")
        #expect(StaticExporter.links(in: sitemap, base: "https://news.example") == ["/tag/caf%C3%A9/"])
    }

    @Test func addressesBecomeFilesInsideTheExportOnly() {
        #expect(StaticExporter.safeFile("/tag/caf%C3%A9/index.html") == "/tag/café/index.html")
        #expect(StaticExporter.safeFile("/img/-/w800/2026/a.jpg") == "/img/-/w800/2026/a.jpg")
        #expect(StaticExporter.safeFile("/world/%2E%2E/%2E%2E/etc/passwd") == nil)
        #expect(StaticExporter.safeFile("/.masthead-static") == nil)
        #expect(StaticExporter.indexName(contentType: "application/rss+xml; charset=utf-8") == ("index.xml", true))
        #expect(StaticExporter.indexName(contentType: "application/feed+json; charset=utf-8") == ("index.json", true))
        #expect(StaticExporter.indexName(contentType: "text/html; charset=utf-8") == ("index.html", false))
        #expect(StaticExporter.imageAccept("/img/-/w800/a.PNG") == "image/png")
        #expect(StaticExporter.imageAccept("/img/-/w800/a.jpeg") == "image/jpeg")
    }
}
