import Foundation
import MastheadCore
import MastheadImaging
import MastheadStorage

/// Brings a Ghost site in from its JSON export (Settings → Labs → Export, Ghost 4 to 6): posts and
/// pages from their rendered `html`, tags (the primary one becomes the section; internal `#tags`
/// are dropped), authors in Ghost's order, feature images with their alt text and captions,
/// statuses, canonical URLs, custom excerpts as deks, and Ghost's addresses as redirects.
public struct GhostImporter: Sendable {
    let foreign: ForeignImport

    /// One post or page of the export, with what the other tables say of it.
    struct Post: Sendable {
        var id: String
        var uuid: String
        var title: String
        var slug: String
        var html: String
        var hasOtherBody: Bool
        var type: String
        var status: String
        var visibility: String
        var publishedAt: Date?
        var excerpt: String
        var featureImage: String
        var featureImageAlt: String
        var featureImageCaption: String
        var canonicalURL: String
        var tags: [(name: String, slug: String)]
        var authors: [String]
    }

    public func run(_ path: String, options: ForeignImport.Options, now: Date = .now, progress: ForeignImport.Progress? = nil) async throws -> ImportReport {
        try foreign.check(options, option: "--images", what: "content/images")
        let (posts, siteURL, authorSlugs, tagSlugs) = try Self.read(path)
        let name = (path as NSString).lastPathComponent
        let downloads = siteURL.isEmpty ? nil : try foreign.downloader(options)
        if let downloads {
            // Pictures not in --images are fetched first, outside the import's transaction.
            await ForeignPictures.download(
                posts.flatMap { ImageAddresses.inHTML($0.html) + ($0.featureImage.isEmpty ? [] : [$0.featureImage]) }, with: downloads,
                folder: options.folder, relativePath: Self.imagesPath, absolute: { $0.replacingOccurrences(of: "__GHOST_URL__", with: siteURL) })
        }
        let (store, renderer) = (foreign.store, foreign.renderer)
        return try await foreign.run(
            report: ImportReport(source: "Ghost export \(name)", dryRun: options.dryRun), options: options, expecting: posts.count, now: now
        ) { importer, images, report in
            let pictures = ForeignPictures(
                images: images, folder: options.folder, downloads: downloads, prefix: "ghost",
                relativePath: Self.imagesPath, absolute: { $0.replacingOccurrences(of: "__GHOST_URL__", with: siteURL) })
            var usage = ForeignImport.Usage()
            var done = 0
            for start in stride(from: 0, to: posts.count, by: ForeignImport.batch) {
                let batch = Array(posts[start..<min(start + ForeignImport.batch, posts.count)])
                let items = try await ForeignImport.convert(batch) { post in
                    try await Self.convert(post, exportName: name, siteURL: siteURL, pictures: pictures, renderer: renderer, store: store)
                }
                for case .article(let record) in items.map(\.content) { usage.note(record.source) }
                try await ForeignImport.store(items, in: importer, report: &report)
                done += batch.count
                progress?(done, posts.count)
            }
            // Ghost's tag and author archives lead to their pages here.
            var addresses: [(path: String, target: String)] = []
            for (ghost, name) in tagSlugs {
                let slug = Slug.make(from: name)
                let target = usage.sections.contains(slug) ? "/\(slug)/" : usage.tags.contains(slug) ? "/tag/\(slug)/" : nil
                if let target, "/tag/\(ghost)/" != target { addresses += [("/tag/\(ghost)/".legacyPath, target), ("/tag/\(ghost)/rss/".legacyPath, target + "feed/")] }
            }
            for (ghost, name) in authorSlugs where usage.authors.contains(Slug.make(from: name)) {
                let target = "/author/\(Slug.make(from: name))/"
                if "/author/\(ghost)/" != target { addresses += [("/author/\(ghost)/".legacyPath, target), ("/author/\(ghost)/rss/".legacyPath, target + "feed/")] }
            }
            addresses.append(("/rss/", "/feed/"))
            addresses += pictures.oldAddresses
            try await importer.recordLegacyAddresses(addresses)
            report.redirects += addresses.count
            usage.count(in: &report)
        }
    }

    /// The posts of the export at `path` (newest last), the site's address, and Ghost's slugs of authors and tags (slug → name).
    static func read(_ path: String) throws -> (posts: [Post], siteURL: String, authors: [String: String], tags: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MastheadError(.invalidInput, "cannot be read: \(error.localizedDescription)", location: .init(file: path))
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw MastheadError(.invalidInput, "is not valid JSON: \(error.localizedDescription)", location: .init(file: path))
        }
        // `{"db": [{"meta", "data"}]}` as Ghost's Labs export writes it, or the inner object alone.
        let root = ((json as? [String: Any])?["db"] as? [[String: Any]])?.first ?? (json as? [String: Any]) ?? [:]
        guard let tables = root["data"] as? [String: Any], let rows = tables["posts"] as? [[String: Any]] else {
            throw MastheadError(.invalidInput, "is not a Ghost export: it has no data.posts", location: .init(file: path))
        }
        func table(_ name: String) -> [[String: Any]] { tables[name] as? [[String: Any]] ?? [] }
        var tagsByID: [String: (name: String, slug: String, internal: Bool)] = [:]
        for tag in table("tags") {
            let name = text(tag["name"])
            tagsByID[text(tag["id"])] = (name, text(tag["slug"]), text(tag["visibility"]) == "internal" || name.hasPrefix("#"))
        }
        var users: [String: (name: String, slug: String)] = [:]
        for user in table("users") { users[text(user["id"])] = (text(user["name"]), text(user["slug"])) }
        func ordered(_ rows: [[String: Any]], key: String) -> [String: [String]] {
            var links: [String: [(order: Int, id: String)]] = [:]
            for row in rows { links[text(row["post_id"]), default: []].append((number(row["sort_order"]), text(row[key]))) }
            return links.mapValues { $0.sorted { $0.order < $1.order }.map(\.id) }
        }
        let postTags = ordered(table("posts_tags"), key: "tag_id")
        let postAuthors = ordered(table("posts_authors"), key: "author_id")
        var meta: [String: [String: Any]] = [:]
        for row in table("posts_meta") { meta[text(row["post_id"])] = row }
        var siteURL = ""
        for setting in table("settings") where text(setting["key"]) == "url" { siteURL = text(setting["value"]) }
        var usedAuthors: [String: String] = [:]
        var usedTags: [String: String] = [:]
        let posts = rows.map { row -> Post in
            let id = text(row["id"])
            let postMeta = meta[id] ?? [:]
            let tags = (postTags[id] ?? []).compactMap { tagsByID[$0] }.filter { !$0.internal }
            for tag in tags { usedTags[tag.slug] = tag.name }
            let authors = ((postAuthors[id] ?? []).isEmpty ? [text(row["author_id"])] : postAuthors[id]!).compactMap { users[$0] }
            for author in authors { usedAuthors[author.slug] = author.name }
            let type = row["type"] != nil ? text(row["type"]) : (truth(row["page"]) ? "page" : "post")
            return Post(
                id: id, uuid: text(row["uuid"]), title: text(row["title"]), slug: text(row["slug"]), html: text(row["html"]),
                hasOtherBody: !text(row["lexical"]).isEmpty || !text(row["mobiledoc"]).isEmpty, type: type, status: text(row["status"]),
                visibility: text(row["visibility"]).isEmpty ? "public" : text(row["visibility"]), publishedAt: date(row["published_at"]),
                excerpt: text(row["custom_excerpt"]), featureImage: text(row["feature_image"]),
                featureImageAlt: text(postMeta["feature_image_alt"]), featureImageCaption: text(postMeta["feature_image_caption"]),
                canonicalURL: text(row["canonical_url"]), tags: tags.map { ($0.name, $0.slug) }, authors: authors.map(\.name))
        }
        return (posts.sorted { ($0.publishedAt ?? .distantFuture) < ($1.publishedAt ?? .distantFuture) }, siteURL, usedAuthors, usedTags)
    }

    static func convert(
        _ post: Post, exportName: String, siteURL: String, pictures: ForeignPictures, renderer: MarkdownRenderer, store: Store
    ) async throws -> ForeignItem {
        let title = ForeignImport.plain(post.title)
        var result = ForeignItem(label: "\(post.type) \(post.id) “\(title.isEmpty ? "untitled" : title)”", content: .skipped(""))
        var status: ArticleStatus
        switch post.status {
        case "published": status = .published
        case "scheduled": status = .scheduled
        case "draft": status = .draft
        case "sent":
            result.content = .skipped("sent as an email newsletter only, never on the web")
            return result
        default:
            result.content = .skipped("status '\(post.status)' is not a post's")
            return result
        }
        if post.visibility != "public", status != .draft {
            // Masthead has no memberships: what Ghost kept for members is not made public.
            result.notes.append("for \(post.visibility == "members" ? "members" : "paying members") only in Ghost: imported as a draft, never public")
            status = .draft
        }
        if post.html.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, post.hasOtherBody {
            result.content = .skipped("has no rendered HTML in the export (export it again from Ghost 4 or later)")
            return result
        }
        let picked = PicturesUsed(pictures)
        let body = post.html.replacingOccurrences(of: "__GHOST_URL__", with: "")
        let siteHost = URLComponents(string: siteURL)?.host?.lowercased()
        let converted = HTMLToMarkdown.convert(
            body,
            images: picked.bodyImage,
            links: { address in siteHost.map { ForeignImport.localized(address, hosts: [$0]) } ?? address })
        result.removed = converted.dropped
        let html = try await store.bodyHTML(markdown: converted.markdown, renderer: renderer, known: picked.known)
        let slug = Slug.isValid(post.slug) ? post.slug : Slug.make(from: post.slug.isEmpty ? title : post.slug)
        let origin = ImportOrigin(origin: "ghost", id: post.id, guid: post.uuid.isEmpty ? nil : "ghost:" + post.uuid)
        let summary = ForeignImport.plain(post.excerpt)
        if post.type == "page" {
            result.missingImages = picked.missing
            guard status == .published else {
                result.content = .skipped("a \(post.status) page: standing pages here are public or absent")
                return result
            }
            result.content = .page(ForeignPage(
                path: ReservedPaths.segments.contains(slug) ? slug + "-page" : slug, title: title.isEmpty ? "Untitled" : title, summary: summary,
                markdown: converted.markdown, html: html, origin: origin, legacyPaths: []))
            return result
        }
        let image = post.featureImage.isEmpty ? nil : picked.featured(
            post.featureImage, alt: post.featureImageAlt, caption: ForeignImport.plain(post.featureImageCaption), title: title)
        result.missingImages = picked.missing
        var sectionName = post.tags.first?.name ?? "News"
        if ReservedPaths.segments.contains(Slug.make(from: sectionName)) { sectionName += " News" }
        if status == .scheduled, post.publishedAt == nil { status = .draft }
        var source = ArticleSource(
            title: title.isEmpty ? "Untitled" : title, slug: slug, sectionName: sectionName,
            tagNames: post.tags.dropFirst().map(\.name).uniqued(by: { Slug.make(from: $0) }), authorNames: post.authors.uniqued(by: { Slug.make(from: $0) }),
            publishedAt: post.publishedAt, summary: summary, status: status, bodyMarkdown: converted.markdown, file: "\(exportName) post \(post.id)")
        if post.canonicalURL.hasPrefix("https://") || post.canonicalURL.hasPrefix("http://") { source.canonicalURL = post.canonicalURL }
        do {
            source = try source.checked()
        } catch let error as MastheadError {
            result.content = .skipped(error.message)
            return result
        }
        // Ghost's default address for a post is `/<slug>/`.
        result.content = .article(ArticleRecord(
            source: source, bodyHTML: html, image: image, origin: origin, legacyPaths: ["/\(post.slug)/".legacyPath], importedBy: "Ghost import"))
        return result
    }

    /// `2024/02/ferry.jpg` for an address under `content/images/`, without Ghost's resized copies' `size/w600/` and `format/webp/`.
    @Sendable static func imagesPath(_ address: String) -> String? {
        let path = URLComponents(string: address.replacingOccurrences(of: "__GHOST_URL__", with: ""))?.path ?? address
        guard let range = path.range(of: "/content/images/") else { return nil }
        var relative = String(path[range.upperBound...])
        relative = relative.replacingOccurrences(of: #"^size/w\d+(h\d+)?/"#, with: "", options: .regularExpression)
        relative = relative.replacingOccurrences(of: #"^format/[a-z0-9]+/"#, with: "", options: .regularExpression)
        return relative.removingPercentEncoding ?? relative
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: ""
        }
    }

    private static func number(_ value: Any?) -> Int {
        switch value {
        case let number as NSNumber: number.intValue
        case let string as String: Int(string) ?? 0
        default: 0
        }
    }

    private static func truth(_ value: Any?) -> Bool {
        switch value {
        case let number as NSNumber: number.boolValue
        case let string as String: string == "1" || string == "true"
        default: false
        }
    }

    /// Ghost's ISO dates (`2024-02-20T07:30:00.000Z`), or the `2024-02-20 07:30:00` (UTC) of SQLite-backed sites.
    private static func date(_ value: Any?) -> Date? {
        let string = text(value)
        guard !string.isEmpty else { return nil }
        if let number = value as? NSNumber { return Date(timeIntervalSince1970: number.doubleValue / 1000) }
        if let parsed = try? Date(string, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return parsed }
        if let parsed = try? Date(string, strategy: Date.ISO8601FormatStyle()) { return parsed }
        return WordPressExport.date(string, in: TimeZone(identifier: "UTC")!)
    }
}
