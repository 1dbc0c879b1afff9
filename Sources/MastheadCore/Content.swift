import Foundation

/// A section of the site (World, Politics, …): the first part of an article's URL.
public struct Section: Sendable, Hashable, Codable {
    public var id: Int64
    public var slug: String
    public var name: String

    public init(id: Int64, slug: String, name: String) {
        self.id = id
        self.slug = slug
        self.name = name
    }

    /// The section's public URL path, e.g. `/world/`.
    public var path: String { "/\(slug)/" }
}

/// A keyword an article is filed under, shown as a hashtag.
public struct Tag: Sendable, Hashable, Codable {
    public var id: Int64
    public var slug: String
    public var name: String

    public init(id: Int64, slug: String, name: String) {
        self.id = id
        self.slug = slug
        self.name = name
    }

    /// The tag page's URL path, e.g. `/tag/climate/`.
    public var path: String { "/tag/\(slug)/" }
}

/// A person credited in bylines; not necessarily someone who logs in.
public struct Author: Sendable, Hashable, Codable {
    public var id: Int64
    public var slug: String
    public var name: String
    /// Job title shown under the name, e.g. "Science correspondent".
    public var title: String
    /// A short biography in Markdown-rendered HTML.
    public var bioHTML: String

    public init(id: Int64, slug: String, name: String, title: String = "", bioHTML: String = "") {
        self.id = id
        self.slug = slug
        self.name = name
        self.title = title
        self.bioHTML = bioHTML
    }

    /// The author page's URL path, e.g. `/author/maya-okafor/`.
    public var path: String { "/author/\(slug)/" }
}

/// The picture that leads an article, with the words that go with it.
public struct FeaturedImage: Sendable, Hashable, Codable {
    /// A path under the site's media folder (`2026/harbour.jpg`) or an absolute URL.
    public var source: String
    public var alt: String
    public var caption: String
    public var credit: String
    /// Pixel size, when known (it is for every image stored by the site).
    public var width: Int?
    public var height: Int?
    /// A tiny blurred copy as a `data:` URL, shown while the picture loads.
    public var placeholder: String?

    public init(source: String, alt: String, caption: String = "", credit: String = "", width: Int? = nil, height: Int? = nil, placeholder: String? = nil) {
        self.source = source
        self.alt = alt
        self.caption = caption
        self.credit = credit
        self.width = width
        self.height = height
        self.placeholder = placeholder
    }

    /// Whether the image is one of the site's own media files (and so can be resized).
    public var isStored: Bool { !(source.hasPrefix("http://") || source.hasPrefix("https://") || source.hasPrefix("/")) }

    /// The URL a browser loads: media paths are served under `/media/`.
    public var url: String {
        if source.hasPrefix("http://") || source.hasPrefix("https://") || source.hasPrefix("/") { return source }
        return "/media/" + source
    }
}

/// Where an article is in the newsroom's workflow. Only `published` articles are public.
public enum ArticleStatus: String, Sendable, Codable, CaseIterable {
    case draft
    /// Written and waiting for an editor.
    case review
    /// Approved, to be published at its publication time by the scheduler.
    case scheduled
    case published

    /// The word the newsroom sees in lists.
    public var label: String {
        switch self {
        case .draft: "Draft"
        case .review: "In review"
        case .scheduled: "Scheduled"
        case .published: "Published"
        }
    }
}

/// A correction or update note that editors append to a published article.
public struct Correction: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case correction
        case update
    }

    public var id: Int64
    public var kind: Kind
    public var text: String
    public var createdAt: Date

    public init(id: Int64, kind: Kind, text: String, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.text = text
        self.createdAt = createdAt
    }
}

/// A news story as readers see it.
public struct Article: Sendable, Hashable, Codable {
    public var id: Int64
    public var slug: String
    public var title: String
    /// The dek: one or two sentences under the headline.
    public var summary: String
    public var bodyHTML: String
    public var section: Section
    public var authors: [Author]
    public var tags: [Tag]
    public var status: ArticleStatus
    public var publishedAt: Date
    /// Set when the story changed in substance after publication.
    public var updatedAt: Date?
    public var image: FeaturedImage?
    /// Whether the author-views note is shown under the article.
    public var disclaimer: Bool
    public var corrections: [Correction]
    /// When the stored record last changed, for caches and feeds.
    public var modifiedAt: Date
    /// Headline and description for search engines and social cards, when they differ from the page's.
    public var seoTitle: String = ""
    public var seoDescription: String = ""
    /// Where the story was first published, when that is its canonical address (a story
    /// brought from another site that keeps the original); empty for this site's own address.
    public var canonicalURL: String = ""

    public init(
        id: Int64, slug: String, title: String, summary: String, bodyHTML: String, section: Section,
        authors: [Author], tags: [Tag], status: ArticleStatus, publishedAt: Date, updatedAt: Date?,
        image: FeaturedImage?, disclaimer: Bool, corrections: [Correction], modifiedAt: Date
    ) {
        self.id = id
        self.slug = slug
        self.title = title
        self.summary = summary
        self.bodyHTML = bodyHTML
        self.section = section
        self.authors = authors
        self.tags = tags
        self.status = status
        self.publishedAt = publishedAt
        self.updatedAt = updatedAt
        self.image = image
        self.disclaimer = disclaimer
        self.corrections = corrections
        self.modifiedAt = modifiedAt
    }

    /// The article's canonical URL path: `/<section>/<slug>/`.
    public var path: String { "/\(section.slug)/\(slug)/" }
}

/// A standing page of the site, such as About or Privacy.
public struct Page: Sendable, Hashable, Codable {
    public var slug: String
    public var title: String
    public var summary: String
    public var bodyHTML: String
    public var modifiedAt: Date

    public init(slug: String, title: String, summary: String, bodyHTML: String, modifiedAt: Date) {
        self.slug = slug
        self.title = title
        self.summary = summary
        self.bodyHTML = bodyHTML
        self.modifiedAt = modifiedAt
    }

    public var path: String { "/\(slug)/" }
}

/// URL path segments that belong to the site itself and can never be a section or page slug.
public enum ReservedPaths {
    public static let segments: Set<String> = [
        "admin", "api", "assets", "author", "feed", "feeds", "healthz", "readyz", "img", "media", "metrics",
        "page", "preview", "search", "sitemap.xml", "robots.txt", "tag", "tips",
    ]
}
