import Foundation
import MastheadCore
import Testing

/// The page a reader sees for HTML another system stored: converted to Markdown, then rendered.
private func rendered(_ html: String) -> String {
    MarkdownRenderer().html(from: HTMLToMarkdown.convert(html).markdown)
}

@Suite struct HTMLToMarkdownTests {
    @Test func classicEditorTextKeepsItsParagraphsAndLineBreaks() {
        let html = "The council met on Monday.\r\n\r\nIt voted:\nyes to the harbour plan,\nno to the car park.\n\n<strong>Next:</strong> a vote in March."
        let markdown = HTMLToMarkdown.convert(html, paragraphsFromLineBreaks: true).markdown
        #expect(markdown == "The council met on Monday.\n\nIt voted:\\\nyes to the harbour plan,\\\nno to the car park.\n\n**Next:** a vote in March.")
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.contains("<p>The council met on Monday.</p>"))
        #expect(page.contains("<p>It voted:<br />\nyes to the harbour plan,<br />\nno to the car park.</p>"))
        #expect(page.contains("<p><strong>Next:</strong> a vote in March.</p>"))
    }

    @Test func blockEditorCommentsAndEmptySpacersLeaveNoTrace() {
        let html = """
            <!-- wp:paragraph -->
            <p>The council met on Monday.</p>
            <!-- /wp:paragraph -->

            <!-- wp:paragraph -->
            <p>&nbsp;</p>
            <!-- /wp:paragraph -->

            <!-- wp:heading {"level":3} -->
            <h3 class="wp-block-heading">What comes next</h3>
            <!-- /wp:heading -->

            <!-- wp:paragraph -->
            <p>A second vote
            follows in March.</p>
            <!-- /wp:paragraph -->
            """
        let result = HTMLToMarkdown.convert(html)
        // Without paragraphsFromLineBreaks a newline inside a paragraph is only a space.
        #expect(result.markdown == "The council met on Monday.\n\n### What comes next\n\nA second vote follows in March.")
        #expect(result.dropped.isEmpty)
    }

    @Test func headingsKeepTheirLevelsAndEmphasis() {
        let markdown = HTMLToMarkdown.convert("<h1>Harbour plan</h1><h2>Costs &amp; benefits</h2><h4>What <em>residents</em> said</h4>").markdown
        #expect(markdown == "# Harbour plan\n\n## Costs & benefits\n\n#### What *residents* said")
    }

    @Test func nestedListsKeepTheirNumberingAndNesting() {
        let html = """
            <ol start="3">
            <li>Close the quay</li>
            <li>Build the wall
            <ul>
            <li>North side</li>
            <li>South side</li>
            </ul>
            </li>
            </ol>
            """
        let markdown = HTMLToMarkdown.convert(html).markdown
        #expect(markdown == "3. Close the quay\n4. Build the wall\n\n   - North side\n   - South side")
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.contains("<ol start=\"3\">"))
        #expect(page.contains("<p>Build the wall</p>\n<ul>\n<li>North side</li>\n<li>South side</li>\n</ul>\n</li>\n</ol>"))
    }

    @Test func aQuoteKeepsItsCitation() {
        let html = #"<blockquote class="wp-block-quote"><p>We will rebuild the quay.</p><cite>Ana Costa, mayor</cite></blockquote>"#
        let markdown = HTMLToMarkdown.convert(html).markdown
        #expect(markdown == "> We will rebuild the quay.\n>\n> *Ana Costa, mayor*")
        #expect(MarkdownRenderer().html(from: markdown).contains("<blockquote>\n<p>We will rebuild the quay.</p>\n<p><em>Ana Costa, mayor</em></p>\n</blockquote>"))
    }

    @Test func aTableWithAHeaderBecomesATableWithItsCaptionBelow() {
        let page = rendered("""
            <figure class="wp-block-table"><table><thead><tr><th>District</th><th>Turnout</th></tr></thead>\
            <tbody><tr><td>Harbour</td><td>61%</td></tr><tr><td>North|South</td><td>58%</td></tr></tbody></table>\
            <figcaption>Turnout by district</figcaption></figure>
            """)
        #expect(page.contains("<table>"))
        #expect(page.contains("<th>District</th>"))
        #expect(page.contains("<td>Harbour</td>\n<td>61%</td>"))
        #expect(page.contains("<td>North|South</td>"), "a pipe in a cell is text, not a new column")
        #expect(page.contains("<p>Turnout by district</p>"))
    }

    @Test func cellsInTheTableHeadAreHeadersEvenWhenWrittenAsDataCells() {
        let page = rendered("<table><thead><tr><td>District</td><td>Turnout</td></tr></thead><tbody><tr><td>Harbour</td><td>61%</td></tr></tbody></table>")
        #expect(page.contains("<th>District</th>"))
        #expect(page.contains("<td>Harbour</td>"))
        #expect(!page.contains("<td>District</td>"))
    }

    @Test func codeBlocksKeepTheirLanguageAndTextExactly() {
        let markdown = HTMLToMarkdown.convert("""
            <pre class="wp-block-code"><code class="language-swift">let total = prices.reduce(0, +) * 2
            if total &lt; 10 { print("cheap") }</code></pre>
            """).markdown
        #expect(markdown == "```swift\nlet total = prices.reduce(0, +) * 2\nif total < 10 { print(\"cheap\") }\n```")
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.contains("<code class=\"language-swift\">let total = prices.reduce(0, +) * 2\nif total &lt; 10 { print(&quot;cheap&quot;) }\n</code>"))
    }

    @Test func codeHoldingAFenceGetsALongerFence() {
        let markdown = HTMLToMarkdown.convert("<pre><code>Start a block with ```swift\nand end it with ```</code></pre>").markdown
        #expect(markdown == "````\nStart a block with ```swift\nand end it with ```\n````")
        #expect(MarkdownRenderer().html(from: markdown) == "<pre><code>Start a block with ```swift\nand end it with ```\n</code></pre>\n")
    }

    @Test func linksKeepTheirTextAndScriptLinksKeepOnlyTheirText() {
        let html = """
            <p>See <a href="https://herald.example.com/2013/01/05/harbour-plan/">the vote</a>, \
            <a href="https://example.org/report.pdf">the report</a> and <a href="javascript:alert(document.cookie)">this offer</a>.</p>
            """
        let site = "https://herald.example.com"
        let markdown = HTMLToMarkdown.convert(html, links: { $0.hasPrefix(site + "/") ? String($0.dropFirst(site.count)) : $0 }).markdown
        #expect(markdown == "See [the vote](/2013/01/05/harbour-plan/), [the report](https://example.org/report.pdf) and this offer.")
        #expect(MarkdownRenderer().html(from: markdown)
            == "<p>See <a href=\"/2013/01/05/harbour-plan/\">the vote</a>, <a href=\"https://example.org/report.pdf\">the report</a> and this offer.</p>\n")
    }

    @Test func aFigureBecomesAnImageWithItsCaption() {
        let html = """
            <figure class="wp-block-image size-large"><img src="https://herald.example.com/wp-content/uploads/2013/01/harbour.jpg" \
            alt="Cranes at dusk" class="wp-image-40"/><figcaption>Idle cranes at the harbour</figcaption></figure>
            """
        let markdown = HTMLToMarkdown.convert(html, images: { $0.hasSuffix("/2013/01/harbour.jpg") ? "/media/2013/01/harbour.jpg" : nil }).markdown
        #expect(markdown == #"![Cranes at dusk](/media/2013/01/harbour.jpg "Idle cranes at the harbour")"#)
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.hasPrefix("<figure>"))
        #expect(page.contains(#"<img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" />"#))
        #expect(page.contains("<figcaption>Idle cranes at the harbour</figcaption></figure>"))
    }

    @Test func aGalleryShowsEachPictureThenItsOwnCaption() {
        let html = """
            <figure class="wp-block-gallery has-nested-images columns-2">\
            <figure class="wp-block-image"><img src="https://herald.example.com/wp-content/uploads/a.jpg" alt="Quay at dawn"/><figcaption>Dawn</figcaption></figure>\
            <figure class="wp-block-image"><img src="https://herald.example.com/wp-content/uploads/b.jpg" alt="Quay at dusk"/></figure>\
            <figcaption class="blocks-gallery-caption">The quay through one day</figcaption></figure>
            """
        let markdown = HTMLToMarkdown.convert(html).markdown
        #expect(markdown == """
            ![Quay at dawn](https://herald.example.com/wp-content/uploads/a.jpg "Dawn")

            ![Quay at dusk](https://herald.example.com/wp-content/uploads/b.jpg)

            The quay through one day
            """)
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.contains("<figcaption>Dawn</figcaption></figure>"))
        #expect(page.contains(#"<img src="https://herald.example.com/wp-content/uploads/b.jpg" alt="Quay at dusk" />"#))
    }

    @Test func anImageThatCannotBeHadIsLeftOut() {
        let html = """
            <p>Before the storm.</p>\
            <figure><img src="https://herald.example.com/wp-content/uploads/gone.jpg" alt="Storm clouds"><figcaption>Clouds over the quay</figcaption></figure>\
            <p>After the storm: <img src="https://herald.example.com/wp-content/uploads/gone-too.jpg" alt="Puddles"> puddles.</p>
            """
        let markdown = HTMLToMarkdown.convert(html, images: { _ in nil }).markdown
        #expect(!markdown.contains("gone"))
        #expect(!markdown.contains("!["))
        let page = MarkdownRenderer().html(from: markdown)
        #expect(page.contains("<p>Before the storm.</p>"))
        #expect(page.contains("After the storm:"))
        #expect(!page.contains("<img"))
    }

    @Test func aYouTubePlayerBecomesTheConsentGatedEmbed() {
        let html = """
            <figure class="wp-block-embed is-type-video is-provider-youtube"><div class="wp-block-embed__wrapper">\
            <iframe title="Harbour launch" width="640" height="360" src="https://www.youtube.com/embed/aqz-KE-bpKQ?feature=oembed" frameborder="0" allowfullscreen></iframe>\
            </div></figure>
            """
        let result = HTMLToMarkdown.convert(html)
        #expect(result.markdown == "<https://www.youtube.com/watch?v=aqz-KE-bpKQ>")
        #expect(result.dropped.isEmpty)
        let page = MarkdownRenderer().html(from: result.markdown)
        #expect(page.contains(#"data-embed="youtube:aqz-KE-bpKQ""#))
        #expect(!page.contains("<iframe"))
    }

    @Test func anEmbeddedPostOnXBecomesTheConsentGatedEmbed() {
        let html = """
            <figure class="wp-block-embed is-type-rich is-provider-twitter"><div class="wp-block-embed__wrapper">
            https://twitter.com/harbourherald/status/1790000000000000001
            </div></figure>
            """
        let markdown = HTMLToMarkdown.convert(html).markdown
        #expect(markdown == "<https://twitter.com/harbourherald/status/1790000000000000001>")
        #expect(MarkdownRenderer().html(from: markdown).contains(#"data-embed="x:1790000000000000001""#))
    }

    @Test func aFrameFromAnUnknownSiteIsRemovedAndListed() {
        let html = #"<p>From our partner:</p><iframe src="https://ads.example.net/slot?id=9" width="300" height="250"></iframe><p>More news.</p>"#
        let result = HTMLToMarkdown.convert(html)
        #expect(result.markdown == "From our partner:\n\nMore news.")
        #expect(result.dropped == ["iframe from ads.example.net"])
    }

    @Test func scriptsStylesAndFormsAreRemovedAndListedNeverShownAsText() {
        let html = """
            <p>Before the vote.</p><script>window.tracker = {id: 1};</script><style>.promo { color: red; }</style>\
            <form action="/subscribe"><input type="email" name="email"><button>Subscribe</button></form><p>After the vote.</p>
            """
        let result = HTMLToMarkdown.convert(html)
        #expect(result.markdown == "Before the vote.\n\nAfter the vote.")
        #expect(result.dropped == ["script", "style", "form"])
    }

    @Test func markdownCharactersInTextAreShownAsWritten() {
        let page = rendered("<p>Fares rose 2*3 times; the file_name_here and [sic] remain, as do &lt;b&gt; tags, &amp;copy; and ~~tildes~~ and `ticks`.</p>")
        #expect(page == "<p>Fares rose 2*3 times; the file_name_here and [sic] remain, as do &lt;b&gt; tags, &amp;copy; and ~~tildes~~ and `ticks`.</p>\n")
    }

    @Test func linesThatLookLikeListsHeadingsOrQuotesStayText() {
        let page = rendered("""
            <p>1. This line only looks like a list</p><p># Not a heading</p><p>- Not a bullet</p><p>&gt; Not a quote</p>\
            <p>2024) Not a list either</p><p>Results:<br>1. Harbour<br>2. Old Town</p>
            """)
        #expect(page.contains("<p>1. This line only looks like a list</p>"))
        #expect(page.contains("<p># Not a heading</p>"))
        #expect(page.contains("<p>- Not a bullet</p>"))
        #expect(page.contains("<p>&gt; Not a quote</p>"))
        #expect(page.contains("<p>2024) Not a list either</p>"))
        #expect(page.contains("<p>Results:<br />\n1. Harbour<br />\n2. Old Town</p>"))
        for markup in ["<ol", "<ul", "<h2", "<blockquote"] {
            #expect(!page.contains(markup), "no \(markup) in \(page)")
        }
    }

    // A closing `**` after punctuation and right before a letter does not close in Markdown:
    // the punctuation moves after it, so the word stays bold and no asterisks show.
    @Test func boldTextRightBeforeOtherTextStaysBold() {
        let page = rendered("<p><strong>Update:</strong>The council met again on Tuesday.</p>")
        #expect(page.contains("<strong>Update</strong>:The council met"))
        #expect(!page.contains("**"))
        #expect(rendered("<p><strong>注意：</strong>文本</p>").contains("<strong>注意</strong>：文本"))
    }

    @Test func boldTextEndingInALineBreakStaysBold() {
        let page = rendered("<p><strong>Where:<br></strong>Town hall, 7 pm</p>")
        #expect(page.contains("<strong>Where:</strong>"))
        #expect(page.contains("<br />"))
        #expect(!page.contains("**"))
    }
}

@Suite struct WordPressContentTests {
    let library = [
        41: WordPressContent.Attachment(url: "https://herald.example.com/wp-content/uploads/dawn.jpg", alt: "Quay at dawn", caption: "Dawn"),
        42: WordPressContent.Attachment(url: "https://herald.example.com/wp-content/uploads/dusk.jpg", alt: "Quay at dusk", caption: ""),
    ]

    func html(_ content: String, uploaded: [WordPressContent.Attachment] = []) -> WordPressContent.Result {
        WordPressContent.html(content, attachment: { library[$0] }, attachments: { uploaded })
    }

    @Test func aCaptionShortcodeBecomesAFigureWithItsCaption() {
        let content = """
            The council approved the plan.

            [caption id="attachment_40" align="aligncenter" width="640"]<a href="https://herald.example.com/wp-content/uploads/2013/01/harbour.jpg">\
            <img class="size-large wp-image-40" src="https://herald.example.com/wp-content/uploads/2013/01/harbour-640x427.jpg" alt="Cranes at dusk" \
            width="640" height="427" /></a> Idle cranes at the harbour[/caption]

            Work starts in March.
            """
        let result = html(content)
        #expect(result.paragraphsFromLineBreaks)
        #expect(!result.html.contains("caption]"))
        #expect(result.html.contains("</a><figcaption>Idle cranes at the harbour</figcaption></figure>"))
        let markdown = HTMLToMarkdown.convert(result.html, paragraphsFromLineBreaks: true).markdown
        #expect(markdown == """
            The council approved the plan.

            ![Cranes at dusk](https://herald.example.com/wp-content/uploads/2013/01/harbour-640x427.jpg "Idle cranes at the harbour")

            Work starts in March.
            """)
        #expect(MarkdownRenderer().html(from: markdown).contains("<figcaption>Idle cranes at the harbour</figcaption></figure>"))
    }

    @Test func anOldCaptionShortcodeTakesItsCaptionFromAnAttribute() {
        let result = html(#"[caption id="attachment_9" align="alignleft" width="300" caption="The quay in 1950"]<img src="https://herald.example.com/wp-content/uploads/quay.jpg" alt="The old quay" width="300" height="200" />[/caption]"#)
        #expect(result.html.contains(#"<figure><img src="https://herald.example.com/wp-content/uploads/quay.jpg" alt="The old quay" width="300" height="200" /><figcaption>The quay in 1950</figcaption></figure>"#))
    }

    @Test func aGalleryWithIdsShowsThosePicturesInItsOrder() {
        let result = html(#"<p>The quay in a day:</p>[gallery ids="42,41,99" columns="2"]"#)
        #expect(result.html.contains("""
            <figure class="gallery"><figure><img src="https://herald.example.com/wp-content/uploads/dusk.jpg" alt="Quay at dusk"></figure>\
            <figure><img src="https://herald.example.com/wp-content/uploads/dawn.jpg" alt="Quay at dawn"><figcaption>Dawn</figcaption></figure></figure>
            """))
        #expect(!result.html.contains("[gallery"))
        let page = MarkdownRenderer().html(from: HTMLToMarkdown.convert(result.html).markdown)
        #expect(page.contains("<figcaption>Dawn</figcaption>"))
        #expect(page.contains(#"alt="Quay at dusk""#))
    }

    @Test func aGalleryWithoutIdsShowsThePicturesUploadedToThePost() {
        let uploaded = [WordPressContent.Attachment(url: "https://herald.example.com/wp-content/uploads/noon.jpg", alt: "Quay at noon", caption: "")]
        let result = html("[gallery]", uploaded: uploaded)
        #expect(result.html.contains(#"<img src="https://herald.example.com/wp-content/uploads/noon.jpg" alt="Quay at noon">"#))
        #expect(!result.html.contains("dawn.jpg"))
    }

    @Test func anEmbedShortcodeBecomesTheConsentGatedEmbed() {
        let result = html("Watch the launch:\n\n[embed]https://www.youtube.com/watch?v=aqz-KE-bpKQ[/embed]")
        #expect(!result.html.contains("[embed]"))
        let page = MarkdownRenderer().html(from: HTMLToMarkdown.convert(result.html, paragraphsFromLineBreaks: true).markdown)
        #expect(page.contains("<p>Watch the launch:</p>"))
        #expect(page.contains(#"data-embed="youtube:aqz-KE-bpKQ""#))
    }

    @Test func aVideoShortcodeBecomesALinkToItsFile() {
        let result = html(#"[video width="1280" height="720" mp4="https://herald.example.com/wp-content/uploads/2013/01/launch.mp4"][/video]"#)
        #expect(result.html.contains(#"<video src="https://herald.example.com/wp-content/uploads/2013/01/launch.mp4"></video>"#))
        let markdown = HTMLToMarkdown.convert(result.html).markdown
        #expect(markdown == "[Watch the video](https://herald.example.com/wp-content/uploads/2013/01/launch.mp4)")
    }

    @Test func aDoubledBracketWritesTheShortcodeLiterally() {
        let result = html("To caption a picture, WordPress used [[caption]] shortcodes.")
        #expect(result.html == "To caption a picture, WordPress used [caption] shortcodes.")
        #expect(MarkdownRenderer().html(from: HTMLToMarkdown.convert(result.html, paragraphsFromLineBreaks: true).markdown)
            == "<p>To caption a picture, WordPress used [caption] shortcodes.</p>\n")
    }

    @Test func bracketedWordsThatAreNoShortcodeStayText() {
        let text = "<p>The minister said the figures were “definately” [sic] correct [1].</p>"
        let result = html(text)
        #expect(result.html == text)
        #expect(result.removed.isEmpty)
    }

    @Test func aPluginFormIsRemovedAndListed() {
        let result = html("<p>Write to us:</p>\n[contact-form-7 id=\"3\" title=\"Contact form 1\"]\n<p>We read every letter.</p>")
        #expect(result.html == "<p>Write to us:</p>\n\n<p>We read every letter.</p>")
        #expect(result.removed == ["[contact-form-7]"])
    }

    @Test func blockEditorPostsAreNotSplitIntoParagraphsAtLineBreaks() {
        #expect(!html("<!-- wp:paragraph -->\n<p>The council met.</p>\n<!-- /wp:paragraph -->").paragraphsFromLineBreaks)
        #expect(html("The council met.\n\nIt voted.").paragraphsFromLineBreaks)
    }

    // A bare `[toc]` (a plugin's table of contents) shows nothing in an archive.
    @Test func aBareTableOfContentsShortcodeIsRemovedSilently() {
        let result = html("[toc]\n\nThe council met on Monday.")
        #expect(!result.html.contains("[toc]"))
        #expect(result.removed.isEmpty)
    }

    // Bracketed words without attributes are text, as WordPress shows them.
    @Test func aBracketedEditorsNoteIsKept() {
        let result = html("<p>[Photo by Ana Costa] The quay at dawn.</p>")
        #expect(result.html == "<p>[Photo by Ana Costa] The quay at dawn.</p>")
        #expect(result.removed.isEmpty)
    }
}

@Suite struct WordPressExportTests {
    /// Writes `text` as `export.xml` in a folder of its own, runs `body` with its path, then removes the folder.
    @discardableResult
    func withExport<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("export.xml")
        try Data(text.utf8).write(to: file)
        return try body(file.path)
    }

    /// A WXR export as WordPress writes it; `namespace` and the prefixes as the file chose them.
    func export(namespace: String = "http://wordpress.org/export/1.2/", wp: String = "wp", excerpt: String = "excerpt", items: [String]) -> String {
        """
        <?xml version="1.0" encoding="UTF-8" ?>
        <rss version="2.0"
            xmlns:\(excerpt)="\(namespace)excerpt/"
            xmlns:content="http://purl.org/rss/1.0/modules/content/"
            xmlns:dc="http://purl.org/dc/elements/1.1/"
            xmlns:\(wp)="\(namespace)"
        >
        <channel>
            <title>Harbour Herald</title>
            <link>https://herald.example.com</link>
            <\(wp):wxr_version>1.2</\(wp):wxr_version>
            <\(wp):base_site_url>https://herald.example.com</\(wp):base_site_url>
            <\(wp):author><\(wp):author_id>1</\(wp):author_id><\(wp):author_login><![CDATA[ana]]></\(wp):author_login><\(wp):author_display_name><![CDATA[Ana Costa]]></\(wp):author_display_name></\(wp):author>
            <\(wp):category><\(wp):term_id>5</\(wp):term_id><\(wp):category_nicename><![CDATA[city-hall]]></\(wp):category_nicename><\(wp):category_parent><![CDATA[]]></\(wp):category_parent><\(wp):cat_name><![CDATA[City Hall]]></\(wp):cat_name></\(wp):category>
        \(items.joined(separator: "\n"))
        </channel>
        </rss>

        """
    }

    func post(id: Int, title: String, content: String, wp: String = "wp", excerpt: String = "excerpt") -> String {
        """
            <item>
                <title>\(title)</title>
                <link>https://herald.example.com/2013/01/05/harbour-plan-\(id)/</link>
                <dc:creator><![CDATA[ana]]></dc:creator>
                <guid isPermaLink="false">https://herald.example.com/?p=\(id)</guid>
                <content:encoded><![CDATA[\(content)]]></content:encoded>
                <\(excerpt):encoded><![CDATA[The plan passed.]]></\(excerpt):encoded>
                <\(wp):post_id>\(id)</\(wp):post_id>
                <\(wp):post_date><![CDATA[2013-01-05 11:00:00]]></\(wp):post_date>
                <\(wp):post_date_gmt><![CDATA[2013-01-05 10:00:00]]></\(wp):post_date_gmt>
                <\(wp):post_name><![CDATA[harbour-plan-\(id)]]></\(wp):post_name>
                <\(wp):status><![CDATA[publish]]></\(wp):status>
                <\(wp):post_type><![CDATA[post]]></\(wp):post_type>
                <category domain="category" nicename="city-hall"><![CDATA[City Hall]]></category>
                <category domain="post_tag" nicename="harbour"><![CDATA[Harbour]]></category>
                <\(wp):postmeta>
                    <\(wp):meta_key><![CDATA[_thumbnail_id]]></\(wp):meta_key>
                    <\(wp):meta_value><![CDATA[40]]></\(wp):meta_value>
                </\(wp):postmeta>
                <\(wp):comment>
                    <\(wp):comment_id>1</\(wp):comment_id>
                    <\(wp):comment_content><![CDATA[Good news for the quay.]]></\(wp):comment_content>
                    <\(wp):commentmeta>
                        <\(wp):meta_key><![CDATA[akismet_result]]></\(wp):meta_key>
                        <\(wp):meta_value><![CDATA[false]]></\(wp):meta_value>
                    </\(wp):commentmeta>
                </\(wp):comment>
                <\(wp):comment>
                    <\(wp):comment_id>2</\(wp):comment_id>
                    <\(wp):comment_content><![CDATA[About time.]]></\(wp):comment_content>
                </\(wp):comment>
            </item>
        """
    }

    /// Everything an item says, to compare items read from differently written files.
    func summary(_ item: WordPressExport.Item) -> [String] {
        var fields: [String] = [
            String(item.id), item.title, item.link, item.guid, item.creator, item.content, item.excerpt, item.postDate, item.postDateGMT,
            item.name, item.status, item.type, String(item.comments),
        ]
        fields += item.terms.map { "\($0.domain) \($0.slug) \($0.name)" }
        fields += item.meta.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return fields
    }

    @Test func readsItemsWithTheirContentTermsMetaAndComments() throws {
        let text = export(items: [post(id: 12, title: "Harbour plan approved", content: "<p>The council <strong>approved</strong> the plan.</p>")])
        var items: [WordPressExport.Item] = []
        var channels: [WordPressExport.Channel] = []
        try withExport(text) { path in
            try WordPressExport.read(path) { item, channel in
                items.append(item)
                channels.append(channel)
            }
        }
        let item = try #require(items.first)
        #expect(items.count == 1)
        #expect(item.id == 12)
        #expect(item.title == "Harbour plan approved")
        #expect(item.creator == "ana")
        #expect(item.content == "<p>The council <strong>approved</strong> the plan.</p>")
        #expect(item.excerpt == "The plan passed.")
        #expect(item.link == "https://herald.example.com/2013/01/05/harbour-plan-12/")
        #expect(item.guid == "https://herald.example.com/?p=12")
        #expect(item.postDateGMT == "2013-01-05 10:00:00")
        #expect(item.name == "harbour-plan-12")
        #expect(item.status == "publish")
        #expect(item.type == "post")
        #expect(item.terms.map { "\($0.domain) \($0.slug) \($0.name)" } == ["category city-hall City Hall", "post_tag harbour Harbour"])
        #expect(item.meta == ["_thumbnail_id": "40"], "a comment's meta is not the post's")
        #expect(item.comments == 2)

        let channel = try #require(channels.first)
        #expect(channel.title == "Harbour Herald")
        #expect(channel.siteURL == "https://herald.example.com")
        #expect(channel.authors["ana"]?.displayName == "Ana Costa")
        #expect(channel.categories["city-hall"]?.name == "City Hall")
        #expect(channel.category(id: "5")?.slug == "city-hall")
    }

    @Test func olderAndHttpsNamespacesWithOtherPrefixesReadTheSame() throws {
        let content = "<p>The council met.</p>"
        var modern: [[String]] = []
        var older: [[String]] = []
        var olderChannel = WordPressExport.Channel()
        try withExport(export(items: [post(id: 12, title: "Harbour plan approved", content: content)])) { path in
            try WordPressExport.read(path) { item, _ in modern.append(summary(item)) }
        }
        let olderText = export(
            namespace: "https://wordpress.org/export/1.1/", wp: "wordpress", excerpt: "ex",
            items: [post(id: 12, title: "Harbour plan approved", content: content, wp: "wordpress", excerpt: "ex")])
        try withExport(olderText) { path in
            olderChannel = try WordPressExport.read(path) { item, _ in older.append(summary(item)) }
        }
        #expect(modern.count == 1)
        #expect(modern.first?.first == "12")
        #expect(older == modern)
        #expect(olderChannel.authors["ana"]?.displayName == "Ana Costa")
        #expect(olderChannel.categories["city-hall"]?.name == "City Hall")
    }

    @Test func aControlCharacterInsideContentDoesNotStopTheImport() throws {
        let text = export(items: [
            post(id: 12, title: "Fares rise", content: "<p>Fares rise\u{0B} on Monday.</p>"),
            post(id: 13, title: "Καλημέρα from the ferry", content: "<p>The ferry\u{0C} returns.</p>"),
        ])
        var items: [WordPressExport.Item] = []
        try withExport(text) { path in
            try WordPressExport.read(path) { item, _ in items.append(item) }
        }
        #expect(items.map(\.title) == ["Fares rise", "Καλημέρα from the ferry"])
        #expect(items.first?.content == "<p>Fares rise on Monday.</p>")
        #expect(items.last?.content == "<p>The ferry returns.</p>")
    }

    @Test func aTruncatedExportIsAnErrorNamingTheLineWhereItBreaksOff() throws {
        let full = export(items: [
            post(id: 12, title: "Harbour plan approved", content: "<p>The council approved the plan.</p>"),
            post(id: 13, title: "Ferry returns", content: "<p>The ferry returns on Monday.</p>"),
        ])
        let cut = try #require(full.range(of: "The ferry returns"))
        let truncated = String(full[..<cut.upperBound])
        let lastLine = truncated.filter { $0 == "\n" }.count + 1
        try withExport(truncated) { path in
            let error = try #require(throws: MastheadError.self) {
                try WordPressExport.read(path) { _, _ in }
            }
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("well-formed XML"))
            #expect(error.location?.file == path)
            #expect(error.location?.line == lastLine)
        }
    }

    @Test func anotherKindOfXMLFileIsNotAWordPressExport() throws {
        let atom = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>Harbour Herald</title>\n</feed>\n"
        try withExport(atom) { path in
            let error = try #require(throws: MastheadError.self) {
                try WordPressExport.read(path) { _, _ in }
            }
            #expect(error.message.contains("is not a WordPress export"))
            #expect(error.location?.file == path)
        }
    }

    // Import messages ("export.xml line N") name the line the post starts on, not the one
    // the parser has read ahead to.
    @Test func eachItemKnowsTheLineItStartsOn() throws {
        let text = export(items: [
            post(id: 12, title: "Harbour plan approved", content: "<p>One.</p>"),
            post(id: 13, title: "Ferry returns", content: "<p>Two.</p>"),
            post(id: 14, title: "Fares rise", content: "<p>Three.</p>"),
        ])
        let expected = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.trimmingCharacters(in: .whitespaces) == "<item>" }.map { $0.offset + 1 }
        #expect(expected.count == 3)
        var lines: [Int] = []
        try withExport(text) { path in
            let reader = try WordPressExport.Reader(path: path)
            while let item = try reader.next() { lines.append(item.line) }
        }
        #expect(lines == expected)
    }

    @Test func datesAreReadInTheGivenZoneAndTheEmptyDateIsNone() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(WordPressExport.date("2013-01-05 10:00:00", in: utc) == Date(timeIntervalSince1970: 1_357_380_000))
        #expect(WordPressExport.date("2013-01-05 11:00:00", in: berlin) == Date(timeIntervalSince1970: 1_357_380_000))
        #expect(WordPressExport.date("0000-00-00 00:00:00", in: utc) == nil)
    }
}

@Suite struct BodyImagesTests {
    let widths = [320, 480, 640, 800, 1024, 1280, 1600]

    func variant(_ path: String, _ width: Int) -> String { "/img/w\(width)/\(path)" }

    /// The widths a `srcset` offers, in order.
    func offeredWidths(_ html: String) -> [Int] {
        guard let start = html.range(of: "srcset=\""), let end = html[start.upperBound...].firstIndex(of: "\"") else { return [] }
        return html[start.upperBound..<end].split(separator: ",").compactMap { candidate in
            candidate.split(separator: " ").last.flatMap { Int($0.dropLast()) }
        }
    }

    @Test func mediaPathsAreFoundDecodedAndRemoteImagesIgnored() {
        let html = """
            <p><img src="/media/2013/01/harbour%20view.jpg" alt="The harbour" /></p>
            <p><img src="https://example.org/remote.jpg" alt="Elsewhere" /></p>
            <figure><p><img src="/media/fish&amp;chips.jpg" alt="" /></p></figure>
            """
        #expect(BodyImages.mediaPaths(in: html) == ["2013/01/harbour view.jpg", "fish&chips.jpg"])
    }

    @Test func knownPicturesGetTheirSizeAndPlaceholderAndOthersAreLeftAlone() {
        let known = [
            "2013/01/harbour.jpg": BodyImages.Known(width: 1600, height: 900, placeholder: "data:image/webp;base64,UklGRiQAAABXRUJQ"),
            "2013/01/harbour view.jpg": BodyImages.Known(width: 800, height: 600, placeholder: nil),
        ]
        #expect(BodyImages.resolve(#"<p><img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" /></p>"#, known: known)
            == #"<p><img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" width="1600" height="900" data-placeholder="data:image/webp;base64,UklGRiQAAABXRUJQ"></p>"#)
        #expect(BodyImages.resolve(#"<img src="/media/2013/01/harbour%20view.jpg" alt="" />"#, known: known)
            == #"<img src="/media/2013/01/harbour%20view.jpg" alt="" width="800" height="600">"#)
        let unknown = #"<p><img src="/media/2013/01/other.jpg" alt="Other" /></p><p><img src="https://example.org/harbour.jpg" alt="" /></p>"#
        #expect(BodyImages.resolve(unknown, known: known) == unknown)
    }

    @Test func resolvingAgainReplacesTheSizeInsteadOfAddingASecond() {
        let stored = #"<img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" width="1600" height="900" data-placeholder="old">"#
        let resized = BodyImages.resolve(stored, known: ["2013/01/harbour.jpg": BodyImages.Known(width: 1200, height: 675, placeholder: nil)])
        #expect(resized == #"<img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" width="1200" height="675">"#)
    }

    @Test func sizedPicturesAreOfferedResponsivelyNeverLargerThanThemselves() {
        let stored = #"<img src="/media/2013/01/harbour.jpg" alt="Cranes at dusk" width="1000" height="667" data-placeholder="data:image/webp;base64,UklGR">"#
        let page = BodyImages.present(stored, widths: widths, url: variant)
        #expect(offeredWidths(page) == [320, 480, 640, 800, 1000])
        #expect(page.contains(#"srcset="/img/w320/2013/01/harbour.jpg 320w, "#))
        #expect(page.contains(#"<img src="/img/w800/2013/01/harbour.jpg" "#))
        #expect(page.contains(#"sizes="(min-width: 46rem) 44rem, 100vw""#))
        #expect(page.contains(#"width="1000" height="667" alt="Cranes at dusk""#))
        #expect(page.contains(#"loading="lazy""#))
        #expect(page.contains("background-image:url(data:image/webp;base64,UklGR)"))
        #expect(!page.contains("/img/w1024/"))
        #expect(!page.contains("data-placeholder"))

        let small = BodyImages.present(#"<img src="/media/icon.png" alt="Icon" width="200" height="200">"#, widths: widths, url: variant)
        #expect(offeredWidths(small) == [200])
    }

    // A picture wider than every width offers the largest one once.
    @Test func aLargePictureOffersEachWidthOnce() {
        let page = BodyImages.present(#"<img src="/media/2013/01/harbour.jpg" alt="" width="4000" height="3000">"#, widths: widths, url: variant)
        #expect(offeredWidths(page) == widths)
    }

    @Test func picturesWithoutASizeAndRemotePicturesAreLeftAlone() {
        let html = #"<p><img src="/media/2013/01/harbour.jpg" alt="Cranes"></p><p><img src="https://example.org/x.jpg" alt="" width="800" height="600"></p>"#
        #expect(BodyImages.present(html, widths: widths, url: variant) == html)
    }
}

@Suite struct PostEmbedTests {
    let post = "https://x.com/harbourherald/status/1790000000000000001"

    @Test func statusLinksOnXAndTwitterArePosts() {
        for link in [post, "https://twitter.com/harbourherald/status/1790000000000000001", "https://mobile.twitter.com/harbourherald/status/1790000000000000001"] {
            let embed = Embeds.video(at: link)
            #expect(embed?.provider == "x", "\(link)")
            #expect(embed?.id == "1790000000000000001", "\(link)")
        }
        #expect(Embeds.video(at: post)?.watchURL == "https://x.com/i/status/1790000000000000001")
    }

    @Test func profilesAndOtherPagesOnXAreNotPosts() {
        #expect(Embeds.video(at: "https://x.com/harbourherald") == nil)
        #expect(Embeds.video(at: "https://twitter.com/harbourherald/status/latest") == nil)
        #expect(Embeds.video(at: "https://x.com/search?q=harbour") == nil)
    }

    @Test func aParagraphOfOnlyAPostLinkBecomesTheConsentPlaceholder() {
        let page = MarkdownRenderer().html(from: """
            \(post)

            https://x.com/harbourherald

            Read [the mayor's post](\(post)) first.
            """)
        #expect(page.contains(#"<figure class="embed" data-consent="media" data-embed="x:1790000000000000001">"#))
        #expect(page.components(separatedBy: "data-embed=").count == 2, "only the paragraph that is just the link")
        #expect(page.contains("This post is hosted by X."))
        #expect(page.contains(#"<p><a href="https://x.com/harbourherald">https://x.com/harbourherald</a></p>"#))
        #expect(!page.contains("platform.twitter.com"))

        let allowed = Embeds.activate(page)
        #expect(allowed.contains(#"<iframe src="https://platform.twitter.com/embed/Tweet.html?id=1790000000000000001&dnt=true""#))
    }
}
