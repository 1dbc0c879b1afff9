import MastheadCore
import Testing

@Suite struct MarkdownTests {
    let renderer = MarkdownRenderer()

    @Test func rendersGitHubTablesStrikethroughAutolinksAndFootnotes() {
        let html = renderer.html(from: """
            | City | Rain |
            | --- | --- |
            | Vell | 12 mm |

            This is ~~wrong~~ right, see https://example.org/report for more.[^1]

            [^1]: The council's own figures.
            """)
        #expect(html.contains("<table>"))
        #expect(html.contains("<td>Vell</td>"))
        #expect(html.contains("<del>wrong</del>"))
        #expect(html.contains("<a href=\"https://example.org/report\">https://example.org/report</a>"))
        #expect(html.contains("class=\"footnotes\""))
    }

    @Test func showsRawHTMLAsTextUnlessTrusted() {
        let source = "Hello <script>alert('x')</script> world\n\n<div onclick=\"steal()\">block</div>\n"
        let escaped = renderer.html(from: source)
        #expect(!escaped.contains("<script>"))
        #expect(!escaped.contains("<div onclick"))
        #expect(escaped.contains("&lt;script&gt;"))
        #expect(escaped.contains("&lt;div onclick=&quot;steal()&quot;&gt;"))

        let trusted = MarkdownRenderer(trustsHTML: true).html(from: "A <span class=\"x\">span</span>\n\n<div class=\"box\">block</div>\n")
        #expect(trusted.contains("<span class=\"x\">span</span>"))
        #expect(trusted.contains("<div class=\"box\">block</div>"))
    }

    @Test func scriptLinksAreDroppedUnlessTrusted() {
        let html = renderer.html(from: "[click](javascript:alert(1)) [file](file:///etc/passwd) [ok](https://example.org/) ![x](data:text/html,hi)\n")
        #expect(!html.contains("javascript:"))
        #expect(!html.contains("file:///"))
        #expect(!html.contains("data:text/html"))
        #expect(html.contains("href=\"https://example.org/\""))
    }

    @Test func bodyImagesCanBeReplacedWithResponsiveMarkup() throws {
        var seen: [MarkdownRenderer.BodyImage] = []
        let html = try renderer.html(from: "Intro.\n\n![A *busy* harbour](harbour.jpg)\n\n![remote](https://example.org/x.png)\n") { image in
            seen.append(image)
            return image.url.hasPrefix("http") ? nil : "<img src=\"/img/-/w800/x/\(image.url)\" alt=\"\(MarkdownRenderer.escapeHTML(image.alt))\">"
        }
        #expect(seen.map(\.url) == ["harbour.jpg", "https://example.org/x.png"])
        #expect(seen.first?.alt == "A busy harbour")
        #expect(seen.first?.line == 3)
        #expect(html.contains("<img src=\"/img/-/w800/x/harbour.jpg\" alt=\"A busy harbour\">"))
        #expect(html.contains("<img src=\"https://example.org/x.png\" alt=\"remote\""))
    }

    @Test func bodyHeadingsStartAtLevelTwoSoThePageKeepsOneH1() {
        let html = renderer.html(from: "# Big\n\n## Smaller\n\n###### Smallest\n")
        #expect(html.contains("<h2>Big</h2>"))
        #expect(html.contains("<h3>Smaller</h3>"))
        #expect(html.contains("<h6>Smallest</h6>"))
        #expect(!html.contains("<h1"))
        let fromLevelTwo = renderer.html(from: "## Part one\n\n### Detail\n")
        #expect(fromLevelTwo.contains("<h2>Part one</h2>") && fromLevelTwo.contains("<h3>Detail</h3>"))
        #expect(renderer.html(from: "#### Deep only\n").contains("<h2>Deep only</h2>"))
    }

    @Test func plainTextDropsTagsAndDecodesEntities() {
        #expect(MarkdownRenderer.plainText(fromHTML: "<p>Fish &amp; <em>chips</em></p>\n<p>now</p>") == "Fish & chips now")
    }
}

@Suite struct SlugTests {
    @Test(arguments: [
        ("Climate Talks: What's Next?", "climate-talks-whats-next"),
        ("Zürich café réopens", "zurich-cafe-reopens"),
        ("  --Hello   World--  ", "hello-world"),
        ("COVID-19", "covid-19"),
        ("北京", "bei-jing"),
        ("Αθήνα: νέα απεργία", "athena-nea-apergia"),
        ("Москва сегодня", "moskva-segodna"),
        ("— ¿? —", "item"),
    ])
    func makesReadableSlugs(text: String, slug: String) {
        #expect(Slug.make(from: text) == slug)
    }

    @Test func validatesSlugs() {
        #expect(Slug.isValid("harbour-strike-2026"))
        #expect(!Slug.isValid("Harbour"))
        #expect(!Slug.isValid("double--hyphen"))
        #expect(!Slug.isValid("-leading"))
        #expect(!Slug.isValid(""))
    }
}
