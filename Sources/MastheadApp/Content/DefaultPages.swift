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

                This site sets **no cookies** and uses no analytics, advertising or social-media trackers.
                It loads nothing from other websites.

                Our server logs record which page was asked for, when, and how long it took to answer.
                They do **not** record your IP address, your browser or the page you came from.

                ## Privacy settings

                Because we set no cookies and run no trackers, there is nothing for you to accept or
                refuse. If that ever changes, this page will let you choose, and refusing will be as easy
                as accepting.
                """
            ),
        ]
    }
}
