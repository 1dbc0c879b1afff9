import Foundation
import MastheadCore
import MastheadImaging
import MastheadStorage

/// Brings a WordPress site in from its export (Tools → Export, WXR 1.0–1.2): posts and pages
/// with their slugs, dates, excerpts, authors, categories and tags; their HTML as Markdown; their
/// pictures from a copy of `wp-content/uploads` (else downloaded); and every old address as a
/// redirect. The export is read twice, item by item, so any size takes bounded memory: first
/// for the attachments and the pages' family tree, then for the posts and pages themselves.
public struct WordPressImporter: Sendable {
    let foreign: ForeignImport

    /// A picture in the export's media library.
    struct Attachment: Sendable {
        var url: String
        var alt: String
        var caption: String
        var title: String
        var parent: Int
    }

    /// What the first reading learns: the site, its pictures and its pages' family tree.
    struct Survey: Sendable {
        var channel = WordPressExport.Channel()
        var attachments: [Int: Attachment] = [:]
        var attachmentsByParent: [Int: [Int]] = [:]
        var pages: [Int: (name: String, parent: Int, title: String)] = [:]
        var total = 0
    }

    public func run(_ path: String, options: ForeignImport.Options, now: Date = .now, progress: ForeignImport.Progress? = nil) async throws -> ImportReport {
        try foreign.check(options, option: "--uploads", what: "wp-content/uploads")
        let (store, site, renderer) = (foreign.store, foreign.site, foreign.renderer)
        let survey = try Self.survey(path)
        let name = (path as NSString).lastPathComponent
        let origin = "wordpress " + Self.siteAddress(survey.channel)
        let downloads = try foreign.downloader(options)
        if let downloads {
            // Pictures not in --uploads are fetched first, outside the import's transaction.
            let reader = try WordPressExport.Reader(path: path)
            var addresses: [String] = []
            func fetch() async {
                await ForeignPictures.download(
                    addresses, with: downloads, folder: options.folder, relativePath: Self.uploadsPath, alternatives: Self.originals,
                    absolute: { Self.absolute($0, site: survey.channel.siteURL) })
                addresses = []
            }
            while let item = try reader.next() {
                guard item.type == "post" || item.type == "page" else { continue }
                addresses += Self.pictureAddresses(of: item, survey: survey)
                if addresses.count >= 1000 { await fetch() }
            }
            await fetch()
        }
        return try await foreign.run(
            report: ImportReport(source: "WordPress export \(name)", dryRun: options.dryRun), options: options, expecting: survey.total, now: now
        ) { importer, images, report in
            let pictures = ForeignPictures(
                images: images, folder: options.folder, downloads: downloads, prefix: "wordpress",
                relativePath: Self.uploadsPath, alternatives: Self.originals, absolute: { Self.absolute($0, site: survey.channel.siteURL) })
            let context = Context(survey: survey, origin: origin, exportName: name, pictures: pictures, renderer: renderer, store: store, timeZone: site.timeZone, now: now)
            let reader = try WordPressExport.Reader(path: path)
            var batch: [WordPressExport.Item] = []
            var done = 0
            var pages: [ForeignItem] = []
            var usage = ForeignImport.Usage()
            // While one batch is stored, the next is converted on the other cores.
            var converting: Task<[ForeignItem], any Error>?
            func storeConverted(_ report: inout ImportReport) async throws {
                guard let task = converting else { return }
                converting = nil
                let items = try await task.value
                for case .article(let record) in items.map(\.content) { usage.note(record.source) }
                // Pages are stored after every post: a page may share its address with a category that becomes a section.
                pages += items.filter { if case .page = $0.content { true } else { false } }
                try await ForeignImport.store(items.filter { if case .page = $0.content { false } else { true } }, in: importer, report: &report)
                done += items.count
                progress?(done, survey.total)
            }
            func flush(_ report: inout ImportReport) async throws {
                guard !batch.isEmpty else { return }
                let items = batch
                batch = []
                let next = Task { try await ForeignImport.convert(items) { try await context.convert($0) } }
                try await storeConverted(&report)
                converting = next
            }
            do {
                while let item = try reader.next() {
                    report.comments += item.comments
                    guard item.type == "post" || item.type == "page" else { continue }
                    batch.append(item)
                    if batch.count >= ForeignImport.batch { try await flush(&report) }
                }
                try await flush(&report)
                try await storeConverted(&report)
            } catch {
                converting?.cancel()
                _ = try? await converting?.value
                throw error
            }
            try await ForeignImport.store(pages, in: importer, report: &report)
            let addresses = Self.archiveAddresses(survey.channel, usage: usage) + pictures.oldAddresses
            try await importer.recordLegacyAddresses(addresses)
            report.redirects += addresses.count
            usage.count(in: &report)
        }
    }

    /// Every picture an item shows: in its body, its galleries and as its featured image.
    static func pictureAddresses(of item: WordPressExport.Item, survey: Survey) -> [String] {
        var addresses = ImageAddresses.inHTML(item.content)
        if let id = item.meta["_thumbnail_id"].flatMap({ Int($0) }), let attachment = survey.attachments[id] { addresses.append(attachment.url) }
        if item.content.contains("[gallery") {
            // The pictures a gallery names by id, or else those uploaded to the post.
            let ids = WordPressContent.galleryIDs(in: item.content)
            addresses += (ids.isEmpty ? survey.attachmentsByParent[item.id] ?? [] : ids).compactMap { survey.attachments[$0]?.url }
        }
        return addresses
    }

    /// The first reading: the channel, attachments and pages.
    static func survey(_ path: String) throws -> Survey {
        var survey = Survey()
        survey.channel = try WordPressExport.read(path) { item, _ in
            switch item.type {
            case "attachment":
                let url = item.attachmentURL.isEmpty ? item.guid : item.attachmentURL
                survey.attachments[item.id] = Attachment(
                    url: url, alt: item.meta["_wp_attachment_image_alt"] ?? "", caption: item.excerpt, title: item.title, parent: item.parent)
                if item.parent != 0 { survey.attachmentsByParent[item.parent, default: []].append(item.id) }
            case "page":
                survey.pages[item.id] = (item.name, item.parent, item.title)
                survey.total += 1
            case "post":
                survey.total += 1
            default:
                break
            }
        }
        return survey
    }

    /// The old site's address, naming it in import origins.
    static func siteAddress(_ channel: WordPressExport.Channel) -> String {
        let address = channel.blogURL.isEmpty ? channel.siteURL : channel.blogURL
        return address.hasSuffix("/") ? String(address.dropLast()) : address
    }

    /// `2013/01/photo.jpg` for an address under `wp-content/uploads/` (or a multisite's `files/`,
    /// or WordPress.com's `*.files.wordpress.com/2013/01/photo.jpg`).
    @Sendable static func uploadsPath(_ address: String) -> String? {
        let url = URLComponents(string: address)
        let path = url?.path ?? address
        if url?.host?.hasSuffix(".files.wordpress.com") == true, path.count > 1 {
            return String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
        for marker in ["/wp-content/uploads/", "/files/"] {
            if let range = path.range(of: marker) {
                let relative = String(path[range.upperBound...])
                return relative.removingPercentEncoding ?? relative
            }
        }
        return nil
    }

    /// The original of a resized, scaled or edited copy first (`photo-1024x768.jpg`,
    /// `photo-scaled.jpg`, `photo-e1580000000000.jpg` → `photo.jpg`), then the copy.
    @Sendable static func originals(_ relative: String) -> [String] {
        let original = relative.replacingOccurrences(
            of: #"(-(\d+x\d+|scaled|rotated|e\d{10,13}))+(?=\.[A-Za-z0-9]+$)"#, with: "", options: .regularExpression)
        return original == relative ? [relative] : [original, relative]
    }

    static func absolute(_ address: String, site: String) -> String {
        if address.hasPrefix("http://") || address.hasPrefix("https://") { return address }
        if address.hasPrefix("//") { return "https:" + address }
        let base = site.hasSuffix("/") ? String(site.dropLast()) : site
        return base + (address.hasPrefix("/") ? address : "/" + address)
    }

    /// The old archive addresses: categories, tags, authors and their feeds.
    static func archiveAddresses(_ channel: WordPressExport.Channel, usage: ForeignImport.Usage) -> [(path: String, target: String)] {
        var addresses: [(path: String, target: String)] = [("/comments/feed/", "/feed/")]
        func add(_ path: String, _ target: String) {
            let old = path.legacyPath
            guard old != target else { return }
            addresses.append((old, target))
            addresses.append((old + "feed/", target + "feed/"))
        }
        for category in channel.categories.values {
            let slug = Slug.make(from: HTMLEntities.decode(category.name))
            let target = usage.sections.contains(slug) ? "/\(slug)/" : usage.tags.contains(slug) ? "/tag/\(slug)/" : nil
            guard let target else { continue }
            var chain = [category.slug]
            var parent = category.parent
            while !parent.isEmpty, chain.count < 10, let up = channel.categories[parent] {
                chain.insert(up.slug, at: 0)
                parent = up.parent
            }
            add("/category/" + category.slug, target)
            if chain.count > 1 { add("/category/" + chain.joined(separator: "/"), target) }
        }
        for tag in channel.tags.values {
            let slug = Slug.make(from: HTMLEntities.decode(tag.name))
            guard usage.tags.contains(slug) else { continue }
            add("/tag/" + tag.slug, "/tag/\(slug)/")
        }
        for author in channel.authors.values {
            let slug = Slug.make(from: HTMLEntities.decode(author.displayName))
            guard usage.authors.contains(slug) else { continue }
            add("/author/" + author.login, "/author/\(slug)/")
        }
        return addresses
    }

    /// What converting one item needs.
    struct Context: Sendable {
        let survey: Survey
        let origin: String
        let exportName: String
        let pictures: ForeignPictures
        let renderer: MarkdownRenderer
        let store: Store
        let timeZone: TimeZone
        let now: Date

        var siteHosts: Set<String> {
            let host = URLComponents(string: survey.channel.siteURL)?.host?.lowercased() ?? ""
            let blogHost = URLComponents(string: survey.channel.blogURL)?.host?.lowercased() ?? ""
            return Set([host, blogHost, host.hasPrefix("www.") ? String(host.dropFirst(4)) : "www." + host].filter { !$0.isEmpty && $0 != "www." })
        }

        func convert(_ item: WordPressExport.Item) async throws -> ForeignItem {
            let title = ForeignImport.plain(item.title)
            let kind = item.type == "page" ? "page" : "post"
            var result = ForeignItem(label: "\(kind) \(item.id) “\(title.isEmpty ? "untitled" : title)”", content: .skipped(""))
            // The statuses an article can have here; WordPress's others are not content.
            var status: ArticleStatus
            switch item.status {
            case "publish": status = .published
            case "future": status = .scheduled
            case "draft": status = .draft
            case "pending": status = .review
            case "private":
                status = .draft
                result.notes.append("private in WordPress: imported as a draft")
            case "auto-draft":
                result.content = .skipped("an automatic draft WordPress made and nobody wrote")
                return result
            case "trash":
                result.content = .skipped("in WordPress's trash")
                return result
            default:
                result.content = .skipped("status '\(item.status)' is not a post's")
                return result
            }
            if !item.password.isEmpty {
                if status == .published || status == .scheduled {
                    result.notes.append("password-protected in WordPress: imported as a draft, never public")
                }
                status = .draft
            }
            // Body: shortcodes, then HTML to Markdown, with pictures staged and the old site's links made relative.
            let attachments = survey.attachments
            let byParent = survey.attachmentsByParent[item.id] ?? []
            let content = WordPressContent.html(
                item.content,
                attachment: { id in attachments[id].map { WordPressContent.Attachment(url: $0.url, alt: $0.alt, caption: ForeignImport.plain($0.caption)) } },
                attachments: { byParent.compactMap { attachments[$0] }.map { WordPressContent.Attachment(url: $0.url, alt: $0.alt, caption: ForeignImport.plain($0.caption)) } })
            let picked = PicturesUsed(pictures)
            let hosts = siteHosts
            let converted = HTMLToMarkdown.convert(
                content.html, paragraphsFromLineBreaks: content.paragraphsFromLineBreaks,
                images: picked.bodyImage, links: { ForeignImport.localized($0, hosts: hosts) })
            result.removed = content.removed.map { "shortcode \($0)" } + converted.dropped
            let html = try await store.bodyHTML(markdown: converted.markdown, renderer: renderer, known: picked.known)
            let summary = ForeignImport.plain(item.excerpt)
            let slug = Self.slug(item.name, title: title, id: item.id)
            var legacy = ["/?p=\(item.id)"]
            if let path = URLComponents(string: item.link)?.percentEncodedPath, path.count > 1 { legacy.append(path.legacyPath) }
            let documentOrigin = ImportOrigin(origin: origin, id: String(item.id), guid: item.guid.isEmpty ? nil : item.guid)

            if item.type == "page" {
                result.missingImages = picked.missing
                guard status == .published else {
                    result.content = .skipped(item.password.isEmpty
                        ? "a \(item.status) page: standing pages here are public or absent"
                        : "a password-protected page: never made public")
                    return result
                }
                legacy.append("/?page_id=\(item.id)")
                result.content = .page(ForeignPage(
                    path: pagePath(item), title: title.isEmpty ? "Untitled" : title, summary: summary, markdown: converted.markdown, html: html,
                    origin: documentOrigin, legacyPaths: legacy))
                return result
            }

            // Section: Yoast's primary category, else the first (WordPress's "Uncategorized" only when alone); the others are tags.
            let categories = item.terms.filter { $0.domain == "category" }
            let primarySlug = item.meta["_yoast_wpseo_primary_category"].flatMap { survey.channel.category(id: $0)?.slug }
            let meaningful = categories.filter { $0.slug != "uncategorized" }
            let section = categories.first { $0.slug == primarySlug } ?? meaningful.first ?? categories.first
            var sectionName = section.map { ForeignImport.plain($0.name) } ?? "News"
            if sectionName.isEmpty || ReservedPaths.segments.contains(Slug.make(from: sectionName)) { sectionName += " News" }
            let tags = (categories.filter { $0.slug != section?.slug && $0.slug != "uncategorized" } + item.terms.filter { $0.domain == "post_tag" })
                .map { ForeignImport.plain($0.name) }.filter { !$0.isEmpty }
            let author = survey.channel.authors[item.creator].map { ForeignImport.plain($0.displayName) } ?? ForeignImport.plain(item.creator)

            let image = item.meta["_thumbnail_id"].flatMap { Int($0) }.flatMap { survey.attachments[$0] }.flatMap { attachment in
                picked.featured(attachment.url, alt: attachment.alt, caption: ForeignImport.plain(attachment.caption), title: title)
            }
            result.missingImages = picked.missing
            let published = WordPressExport.date(item.postDateGMT, in: TimeZone(identifier: "UTC")!)
                ?? WordPressExport.date(item.postDate, in: timeZone)
            if status == .scheduled, published == nil { status = .draft }
            var uniqueTags = tags.uniqued(by: { Slug.make(from: $0) })
            if uniqueTags.count > 50 {
                result.notes.append("\(uniqueTags.count) tags: the first 50 kept")
                uniqueTags = Array(uniqueTags.prefix(50))
            }
            var source = ArticleSource(
                title: title.isEmpty ? "Untitled" : title, slug: slug, sectionName: sectionName,
                tagNames: uniqueTags, authorNames: author.isEmpty ? [] : [author],
                publishedAt: published, summary: summary, status: status, bodyMarkdown: converted.markdown,
                file: "\(exportName) line \(item.line)")
            do {
                source = try source.checked()
            } catch let error as MastheadError {
                result.content = .skipped(error.message)
                return result
            }
            result.content = .article(ArticleRecord(
                source: source, bodyHTML: html, image: image, origin: documentOrigin, legacyPaths: legacy, importedBy: "WordPress import"))
            return result
        }

        /// `about/team`: the page's slug under its parents'.
        func pagePath(_ item: WordPressExport.Item) -> String {
            var segments = [Self.slug(item.name, title: ForeignImport.plain(item.title), id: item.id)]
            var parent = item.parent
            var seen: Set<Int> = [item.id]
            while parent != 0, !seen.contains(parent), segments.count < 3, let up = survey.pages[parent] {
                seen.insert(parent)
                segments.insert(Self.slug(up.name, title: ForeignImport.plain(up.title), id: parent), at: 0)
                parent = up.parent
            }
            if ReservedPaths.segments.contains(segments[0]) { segments[0] += "-page" }
            return segments.joined(separator: "/")
        }

        /// The slug: WordPress's (decoded, written in Latin letters when it is not), else the title's.
        static func slug(_ name: String, title: String, id: Int) -> String {
            let decoded = name.removingPercentEncoding ?? name
            if Slug.isValid(decoded) { return decoded }
            let made = Slug.make(from: decoded.isEmpty ? title : decoded)
            return made == "item" ? "post-\(id)" : made
        }
    }
}

