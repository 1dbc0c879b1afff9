import Foundation
import MastheadCore
import MastheadImaging

/// schema.org JSON-LD for search engines and news aggregators: `NewsArticle` and
/// `BreadcrumbList` on articles, `ProfilePage` with a `Person` on author pages.
public enum StructuredData {
    static func article(_ article: Article, description: String, site: SiteSettings, images: ImageLinks) -> String {
        let url = site.absoluteURL(article.path)
        var news: [String: Any] = [
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "@id": url + "#article",
            "mainEntityOfPage": ["@type": "WebPage", "@id": url],
            "url": url,
            "headline": String(article.title.prefix(110)),
            "description": description,
            "datePublished": iso(article.publishedAt, site),
            "dateModified": iso(max(article.updatedAt ?? article.publishedAt, article.publishedAt), site),
            "author": article.authors.map { ["@type": "Person", "name": $0.name, "url": site.absoluteURL($0.path)] },
            "publisher": publisher(site),
            "articleSection": article.section.name,
            "keywords": article.tags.map(\.name),
            "isAccessibleForFree": true,
            "inLanguage": site.language,
        ]
        if let image = article.image {
            if image.isStored {
                // Google asks for 16:9, 4:3 and 1:1 crops at least 1200 pixels wide.
                news["image"] = [(1200, 675), (1200, 900), (1200, 1200)].map { width, height in
                    site.absoluteURL(images.url(image.source, ImageVariant(width: width, height: height, fit: .cover, gravity: .smart)))
                }
            } else {
                news["image"] = [image.url]
            }
        }
        if !article.corrections.isEmpty {
            news["correction"] = article.corrections.map { correction in
                ["@type": "CorrectionComment", "text": correction.text, "datePublished": iso(correction.createdAt, site)]
            }
        }
        let breadcrumbs: [String: Any] = [
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                ["@type": "ListItem", "position": 1, "name": site.title, "item": site.absoluteURL("/")],
                ["@type": "ListItem", "position": 2, "name": article.section.name, "item": site.absoluteURL(article.section.path)],
                ["@type": "ListItem", "position": 3, "name": article.title, "item": url],
            ],
        ]
        return encode([news, breadcrumbs])
    }

    /// `ProfilePage` whose main entity is the author.
    public static func profile(_ author: Author, site: SiteSettings) -> String {
        let url = site.absoluteURL(author.path)
        var person: [String: Any] = ["@type": "Person", "name": author.name, "url": url]
        if !author.title.isEmpty { person["jobTitle"] = author.title }
        let bio = MarkdownRenderer.plainText(fromHTML: author.bioHTML)
        if !bio.isEmpty { person["description"] = bio }
        person["worksFor"] = publisher(site)
        return encode(["@context": "https://schema.org", "@type": "ProfilePage", "url": url, "mainEntity": person])
    }

    static func publisher(_ site: SiteSettings) -> [String: Any] {
        [
            "@type": "NewsMediaOrganization",
            "name": site.title,
            "url": site.absoluteURL("/"),
            "logo": ["@type": "ImageObject", "url": site.absoluteURL(site.logoPath), "width": 600, "height": 60],
        ]
    }

    static func iso(_ date: Date, _ site: SiteSettings) -> String {
        DateText.iso8601(date, timeZone: site.timeZone)
    }

    /// JSON that is safe inside a `<script>` element: `<` is written as `\u003c`, so no
    /// `</script>` or `<!--` in any value can end the element.
    static func encode(_ value: Any) -> String {
        JSONText.encode(value, forScript: true)
    }
}
