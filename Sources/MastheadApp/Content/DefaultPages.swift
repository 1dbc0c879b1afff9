import MastheadCore
import MastheadStorage

/// The standing pages every site links to from its footer. A site that has not written its own
/// gets these, so no footer link leads nowhere; importing a page with the same slug replaces them.
enum DefaultPages {
    static func ensure(in store: Store, site: SiteSettings, markdown: MarkdownRenderer) async throws {
        for (slug, title, summary, body) in pages(for: site) where try await store.page(slug: slug) == nil {
            try await store.savePage(slug: slug, title: title, summary: summary, markdown: body, html: markdown.html(from: body))
        }
    }

    private static func pages(for site: SiteSettings) -> [(String, String, String, String)] {
        [
            (
                "about", "About us", "Who we are and how to reach us.",
                """
                \(site.title) is an independent newsroom. We correct our mistakes openly: every correction
                appears at the end of the article it concerns, with the time it was made.

                Have a story we should look into? Use our [tip line](/tips/).
                """
            ),
            (
                "privacy", "Privacy", "What this site stores about you.",
                """
                ## What we store

                Until you agree to something, this site stores **nothing** on your device and loads nothing
                from other websites. We use no advertising or social-media trackers.

                If you allow it under [privacy settings](/consent/), articles may show videos from other sites
                (YouTube, Vimeo), which then see your visit and may set their own cookies. Your choice is kept in
                one cookie, `masthead_consent`, for six months, and recorded on our server with a random id and
                the time, never with your address. You can change or withdraw it at any time, in one click; your
                browser's Global Privacy Control or Do Not Track signal counts as "reject all".

                We count page views without cookies or personal data: per page, referring site and day, telling
                visitors apart only by a code that changes every day and is then thrown away.

                Our server logs record which page was asked for, when, and how long it took to answer. They do
                **not** record your IP address, your browser or the page you came from.

                ## Tips

                Messages sent through our [tip line](/tips/) are encrypted for the newsroom before they are
                stored. We keep no record of who sent them. Tips are deleted after 90 days without activity
                unless an editor keeps them for a story.
                """
            ),
        ]
    }
}
