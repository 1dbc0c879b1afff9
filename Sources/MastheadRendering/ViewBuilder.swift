import Foundation
import MastheadCore
import MastheadImaging

/// Makes the URL of a variant of a stored media file (signing it when it needs a signature).
public struct ImageLinks: Sendable {
    public var url: @Sendable (_ mediaPath: String, _ variant: ImageVariant) -> String

    public init(url: @escaping @Sendable (_ mediaPath: String, _ variant: ImageVariant) -> String) {
        self.url = url
    }
}

/// Where a picture appears, which decides the sizes offered and how it is cut.
public enum ImageRole: Sendable {
    /// At the top of an article: the whole picture, up to the text column's width.
    case featured
    /// The home page's lead story: 16:9, up to about half the page.
    case lead
    /// A list card: 16:9, a third of the page at most.
    case card
}

/// Builds view models from content, in the site's language and time zone.
public struct ViewBuilder: Sendable {
    /// The settings as they stand now (admins may change some while the site runs).
    public let settings: LiveSiteSettings
    public var assetsVersion: String
    public var images: ImageLinks
    /// The policy readers' consent answers.
    public var consentPolicy = ConsentPolicy()
    /// The reader's consent for the page being built.
    public var consent: ConsentState { ConsentState.current }

    public var site: SiteSettings { settings.current }

    public init(settings: LiveSiteSettings, assetsVersion: String, images: ImageLinks) {
        self.settings = settings
        self.assetsVersion = assetsVersion
        self.images = images
    }

    public init(site: SiteSettings, assetsVersion: String, images: ImageLinks) {
        self.init(settings: LiveSiteSettings(site), assetsVersion: assetsVersion, images: images)
    }

    // MARK: Pages

    public func homePage(lead: Article?, latest: [Article], sectionBlocks: [(Section, [Article])], sections: [Section]) -> HomePageView {
        HomePageView(
            frame: frame(title: nil, description: site.tagline, path: "/", sections: sections, isHome: true),
            lead: lead.map { card($0, role: .lead) },
            latest: latest.map(card),
            sections: sectionBlocks.filter { !$0.1.isEmpty }.map { section, articles in
                SectionBlockView(name: section.name, path: section.path, anchor: "section-" + section.slug, articles: articles.map(card))
            })
    }

    public func articlePage(_ article: Article, related: [Article], sections: [Section]) -> ArticlePageView {
        let description = [article.seoDescription, article.summary].first { !$0.isEmpty }
            ?? String(MarkdownRenderer.plainText(fromHTML: article.bodyHTML).prefix(200))
        var articleFrame = frame(
            title: article.seoTitle.isEmpty ? article.title : article.seoTitle, description: description, path: article.path, sections: sections, currentSection: article.section,
            feedPath: article.section.path, feedTitle: "\(article.section.name) – \(site.title)")
        articleFrame.structuredData = StructuredData.article(article, description: description, site: site, images: images)
        if !article.canonicalURL.isEmpty { articleFrame.canonicalURL = article.canonicalURL }
        return ArticlePageView(
            frame: articleFrame,
            title: article.title,
            summary: article.summary.nonEmpty,
            byline: links(article.authors.map { ($0.name, $0.path) }),
            hasByline: !article.authors.isEmpty,
            authorNames: links(article.authors.map { ($0.name, $0.path) }).map { $0.name + $0.separator }.joined().nonEmpty,
            published: time(article.publishedAt),
            updated: article.updatedAt.flatMap { $0 > article.publishedAt ? time($0) : nil },
            image: article.image.map { image($0, role: .featured) },
            bodyHTML: presentBody(article.bodyHTML),
            corrections: article.corrections.map { correction in
                CorrectionView(label: correction.kind == .correction ? "Correction" : "Update", text: correction.text, time: time(correction.createdAt))
            },
            section: LinkView(name: article.section.name, path: article.section.path, separator: ""),
            related: related.map(card),
            tags: article.tags.map { tag in
                HashtagView(hashtag: Self.hashtag(tag.name), name: tag.name, path: tag.path)
            },
            disclaimer: article.disclaimer ? site.disclaimer : nil,
            tipPrompt: site.tipPrompt)
    }

    /// A section, tag or author page. `basePath` is the list's first page, e.g. `/world/`.
    public func listPage(
        kind: String, heading: String, subheading: String = "", introHTML: String = "", description: String,
        basePath: String, page: Int, totalPages: Int, articles: [Article], sections: [Section], currentSection: Section? = nil
    ) -> ListPageView {
        let path = Self.pagePath(basePath, page)
        let title = page > 1 ? "\(heading) – page \(page)" : heading
        return ListPageView(
            frame: frame(
                title: title, description: description, path: path, sections: sections, currentSection: currentSection,
                feedPath: basePath, feedTitle: "\(heading) – \(site.title)"),
            kind: kind,
            heading: heading,
            subheading: subheading.nonEmpty,
            introHTML: introHTML.nonEmpty,
            articles: articles.map(card),
            pagination: totalPages > 1
                ? PaginationView(
                    current: page, total: totalPages,
                    previousPath: page > 1 ? Self.pagePath(basePath, page - 1) : nil,
                    nextPath: page < totalPages ? Self.pagePath(basePath, page + 1) : nil)
                : nil,
            isEmpty: articles.isEmpty)
    }

    public func staticPage(title: String, summary: String, bodyHTML: String, path: String, sections: [Section]) -> StaticPageView {
        StaticPageView(
            frame: frame(title: title, description: summary.isEmpty ? title : summary, path: path, sections: sections),
            title: title, summary: summary.nonEmpty, bodyHTML: presentBody(bodyHTML))
    }

    /// The page for an error answer; `storageFault` (a full disk, a read-only database) is said as it is.
    public func errorPage(status: Int, path: String, sections: [Section], storageFault: String? = nil) -> ErrorPageView {
        let notFound = status == 404
        let heading = notFound ? "We can’t find that page"
            : status == 503 && storageFault != nil ? "Please try again in a moment"
            : storageFault != nil ? "Nothing could be saved" : "Something went wrong on our side"
        let message = notFound
            ? "The page may have moved, or the address may be mistyped. Try the front page or one of our sections."
            : storageFault.map { "Sorry: \($0)." }
            ?? "The page could not be shown just now. Please try again in a moment; the newsroom has been told."
        return ErrorPageView(
            frame: frame(title: heading, description: heading, path: path, sections: sections),
            status: status, heading: heading, message: message)
    }

    static func resultCount(_ total: Int) -> String {
        total >= SearchLimits.countLimit ? "More than \(SearchLimits.countLimit.formatted()) results"
            : "\(total.formatted()) \(total == 1 ? "result" : "results")"
    }

    /// The search page for `query` (already run: `hits` of `total`).
    public func searchPage(
        query: String, sectionSlug: String?, from: String, until: String, hits: [(Article, String)], total: Int,
        page: Int, pageSize: Int, sections: [Section], pagePath: (Int) -> String
    ) -> SearchPageView {
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        let totalPages = max(1, (total + pageSize - 1) / pageSize)
        return SearchPageView(
            frame: frame(title: trimmed.isEmpty ? "Search" : "Search: \(trimmed)", description: "Search \(site.title).", path: "/search/", sections: sections),
            query: trimmed,
            sections: sections.map { SectionOptionView(slug: $0.slug, name: $0.name, isSelected: $0.slug == sectionSlug) },
            from: from,
            until: until,
            hasQuery: !trimmed.isEmpty,
            results: hits.map { SearchResultView(card: card($0.0), snippetHTML: $0.1) },
            summary: trimmed.isEmpty ? nil : Self.resultCount(total) + " for “\(trimmed)”",
            pagination: totalPages > 1
                ? PaginationView(current: page, total: totalPages, previousPath: page > 1 ? pagePath(page - 1) : nil, nextPath: page < totalPages ? pagePath(page + 1) : nil)
                : nil)
    }

    /// The path of page `page` of a list starting at `basePath`: `/world/`, `/world/page/2/`.
    public static func pagePath(_ basePath: String, _ page: Int) -> String {
        page <= 1 ? basePath : "\(basePath)page/\(page)/"
    }

    // MARK: Pieces

    public func frame(
        title: String?, description: String, path: String, sections: [Section], currentSection: Section? = nil, isHome: Bool = false,
        feedPath: String? = nil, feedTitle: String? = nil
    ) -> FrameView {
        var feeds: [FeedLinkView] = []
        for (base, name) in [(feedPath, feedTitle), ("/", site.title)] {
            guard let base, let name, !feeds.contains(where: { $0.url.hasPrefix(site.absoluteURL(base) + "feed/") }) else { continue }
            feeds += [
                FeedLinkView(title: "\(name) (RSS)", type: "application/rss+xml", url: site.absoluteURL(base + "feed/")),
                FeedLinkView(title: "\(name) (Atom)", type: "application/atom+xml", url: site.absoluteURL(base + "feed/atom/")),
                FeedLinkView(title: "\(name) (JSON Feed)", type: "application/feed+json", url: site.absoluteURL(base + "feed/json/")),
            ]
        }
        return FrameView(
            siteTitle: site.title,
            siteTagline: site.tagline,
            language: site.language,
            documentTitle: title.map { "\($0) – \(site.title)" } ?? "\(site.title) – \(site.tagline)",
            description: description,
            canonicalURL: site.absoluteURL(path),
            navigation: sections.map { NavigationItem(name: $0.name, path: $0.path, isCurrent: $0.id == currentSection?.id) },
            assetsVersion: assetsVersion,
            tipPrompt: site.tipPrompt,
            showsImageCredit: site.showsImageCredit,
            year: String(Calendar(identifier: .gregorian).component(.year, from: .now)),
            isHome: isHome,
            feeds: feeds,
            structuredData: nil,
            consent: ConsentView(state: consent, policy: consentPolicy, path: path))
    }

    public func card(_ article: Article) -> ArticleCardView {
        card(article, role: .card)
    }

    func card(_ article: Article, role: ImageRole) -> ArticleCardView {
        ArticleCardView(
            title: article.title,
            path: article.path,
            summary: article.summary.nonEmpty,
            section: LinkView(name: article.section.name, path: article.section.path, separator: ""),
            published: time(article.publishedAt),
            byline: links(article.authors.map { ($0.name, $0.path) }),
            hasByline: !article.authors.isEmpty,
            image: article.image.map { image($0, role: role) })
    }

    func image(_ image: FeaturedImage, role: ImageRole) -> ImageView {
        let caption = image.caption.nonEmpty
        let credit = image.credit.nonEmpty
        guard image.isStored, let sourceWidth = image.width, let sourceHeight = image.height, sourceWidth > 0, sourceHeight > 0 else {
            return ImageView(
                url: image.url, absoluteURL: image.url.hasPrefix("/") ? site.absoluteURL(image.url) : image.url, srcset: nil, sizes: nil,
                placeholderStyle: nil, alt: image.alt, caption: caption, credit: credit, width: image.width, height: image.height,
                hasFigcaption: caption != nil || credit != nil)
        }
        let variants: [ImageVariant]
        let sizes: String
        let width: Int
        let height: Int
        switch role {
        case .featured:
            // Widths up to the picture's own (never enlarged), at most 2048.
            var widths = [320, 480, 640, 800, 1024, 1280, 1600].filter { $0 < sourceWidth }
            widths.append(min(sourceWidth, 2048))
            variants = widths.map { ImageVariant(width: $0) }
            sizes = "(min-width: 46rem) 44rem, 100vw"
            width = sourceWidth
            height = sourceHeight
        case .lead, .card:
            let widths = role == .lead ? [480, 640, 960, 1280] : [320, 480, 640, 960]
            variants = widths.map { ImageVariant(width: $0, height: $0 * 9 / 16, fit: .cover, gravity: .smart) }
            sizes = role == .lead ? "(min-width: 64rem) 42rem, 100vw" : "(min-width: 64rem) 22rem, (min-width: 40rem) 46vw, 100vw"
            width = 640
            height = 360
        }
        let middle = variants[min(variants.count - 1, 2)]
        let shareVariant = ImageVariant(width: 1280)
        return ImageView(
            url: images.url(image.source, middle),
            absoluteURL: site.absoluteURL(images.url(image.source, shareVariant)),
            srcset: variants.map { "\(images.url(image.source, $0)) \($0.width ?? width)w" }.joined(separator: ", "),
            sizes: sizes,
            placeholderStyle: image.placeholder.map(Self.placeholderStyle),
            alt: image.alt, caption: caption, credit: credit, width: width, height: height,
            hasFigcaption: caption != nil || credit != nil)
    }

    /// A stored body as this reader gets it: pictures from the media folder offered in several
    /// sizes, and embedded players only for readers who allowed embedded media.
    func presentBody(_ html: String) -> String {
        let body = BodyImages.present(html, widths: [320, 480, 640, 800, 1024, 1280, 1600]) { path, width in
            images.url(path, ImageVariant(width: width))
        }
        return consent.allows("media") ? Embeds.activate(body) : body
    }

    /// Links listed as in a sentence: "A", "A and B", "A, B and C".
    func links(_ items: [(name: String, path: String)]) -> [LinkView] {
        items.enumerated().map { index, item in
            let remaining = items.count - index - 1
            return LinkView(name: item.name, path: item.path, separator: remaining > 1 ? ", " : remaining == 1 ? " and " : "")
        }
    }

    /// A tag name as a hashtag: "climate change" → "#ClimateChange", "COVID-19" → "#COVID19".
    public static func hashtag(_ name: String) -> String {
        let words = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        // One word keeps the newsroom's spelling (#negotiations, #iPhone, #COP29); several are
        // joined with each word's first letter raised so the hashtag stays readable.
        guard words.count > 1 else { return "#" + words.joined() }
        return "#" + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The inline style that paints a placeholder (a `data:` URL) behind a picture until it loads.
    public static func placeholderStyle(_ dataURL: String) -> String {
        "background-size:cover;background-image:url(\(dataURL))"
    }

    /// `date` in the site's time zone, as ISO 8601 with offset and in words.
    public func time(_ date: Date) -> TimeView {
        let zone = site.timeZone.abbreviation(for: date) ?? site.timeZone.identifier
        return TimeView(
            iso: DateText.iso8601(date, timeZone: site.timeZone),
            text: "\(DateText.words(date, language: site.language, timeZone: site.timeZone)) \(zone)")
    }
}

extension String {
    /// The string, or nil when it is empty: templates show a block only for non-nil values.
    var nonEmpty: String? { isEmpty ? nil : self }
}
