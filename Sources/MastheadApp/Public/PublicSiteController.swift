import Foundation
import Hummingbird
import MastheadCore
import MastheadRendering
import MastheadStorage

/// The reader-facing site: home, sections, articles, tags, authors and standing pages.
///
/// Every page goes through the page cache: a hit costs no query and no render.
struct PublicSiteController: Sendable {
    let store: Store
    let theme: Theme
    let views: ViewBuilder
    let cache: PageCache

    /// Articles per page on section, tag and author pages.
    static let pageSize = 12

    func addRoutes(to router: Router<some RequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/", method: method) { request, _ in try await home(request) }
            router.on("/search", method: method) { request, _ in try await search(request) }
            router.on("/tag/:slug", method: method) { request, context in
                try await tag(request, slug: try context.parameters.require("slug"), page: 1)
            }
            router.on("/tag/:slug/page/:page", method: method) { request, context in
                try await tag(request, slug: try context.parameters.require("slug"), page: try pageNumber(context))
            }
            router.on("/author/:slug", method: method) { request, context in
                try await author(request, slug: try context.parameters.require("slug"), page: 1)
            }
            router.on("/author/:slug/page/:page", method: method) { request, context in
                try await author(request, slug: try context.parameters.require("slug"), page: try pageNumber(context))
            }
            router.on("/:section", method: method) { request, context in
                try await sectionOrPage(request, slug: try context.parameters.require("section"))
            }
            router.on("/:section/page/:page", method: method) { request, context in
                try await section(request, slug: try context.parameters.require("section"), page: try pageNumber(context))
            }
            router.on("/:section/:slug", method: method) { request, context in
                try await article(request, sectionSlug: try context.parameters.require("section"), slug: try context.parameters.require("slug"))
            }
            // Standing pages under others (`/about/team/history/`), as imported sites have them.
            router.on("/:section/:slug/:child", method: method) { request, context in
                try await nestedPage(
                    request, path: [try context.parameters.require("section"), try context.parameters.require("slug"), try context.parameters.require("child")])
            }
        }
    }

    // MARK: Pages

    private func home(_ request: Request) async throws -> Response {
        // WordPress's `/?p=12` and `/?page_id=7` lead to where those posts and pages are now.
        if let query = request.uri.query, query.contains("p=") || query.contains("page_id="),
           let target = try await store.legacyAddress(Store.legacyKey(path: "/", query: query)) {
            return .movedPermanently(to: target)
        }
        return try await cached(request) {
            let now = Date.now
            let sections = try await store.sections()
            let recent = try await store.publishedArticles(limit: 7, now: now, bodies: false)
            // Section blocks repeat the latest stories where they belong, but never the lead.
            let newest = try await store.newestBySection(sections.map(\.id), limit: 3, excludingID: recent.first?.id, now: now)
            let blocks = sections.map { ($0, newest[$0.id] ?? []) }
            let view = views.homePage(lead: recent.first, latest: Array(recent.dropFirst()), sectionBlocks: blocks, sections: sections)
            return try theme.render(view, template: "home")
        }
    }

    private func article(_ request: Request, sectionSlug: String, slug: String) async throws -> Response {
        // The site's own folders (/assets/, /media/) are never sections: leave them to the file server.
        guard !ReservedPaths.segments.contains(sectionSlug) else { throw HTTPError(.notFound) }
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            guard let article = try await store.article(slug: slug), article.status == .published, article.publishedAt <= .now else {
                // A standing page under another (`/about/team/`).
                if let page = try await store.page(slug: sectionSlug + "/" + slug) { return try await render(page) }
                // A story whose slug was changed after publication sends readers to its new address.
                if let moved = try await store.articleByOldSlug(slug), moved.status == .published, moved.publishedAt <= .now {
                    throw PageRedirect(location: moved.path)
                }
                throw HTTPError(.notFound)
            }
            // The section in the address is only a hint: a story that moved section keeps working;
            // unless a standing page lives at that address (`/about/contact/`).
            guard article.section.slug == sectionSlug else {
                if let page = try await store.page(slug: sectionSlug + "/" + slug) { return try await render(page) }
                throw PageRedirect(location: article.path)
            }
            let related = try await store.relatedArticles(to: article, limit: 4)
            let view = views.articlePage(article, related: related, sections: try await store.sections())
            return try theme.render(view, template: "article")
        }
    }

    private func sectionOrPage(_ request: Request, slug: String) async throws -> Response {
        guard !ReservedPaths.segments.contains(slug) else { throw HTTPError(.notFound) }
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            if let section = try await store.section(slug: slug) {
                return try await sectionList(section, page: 1)
            }
            guard let page = try await store.page(slug: slug) else { throw HTTPError(.notFound) }
            return try await render(page)
        }
    }

    private func nestedPage(_ request: Request, path: [String]) async throws -> Response {
        guard !ReservedPaths.segments.contains(path[0]) else { throw HTTPError(.notFound) }
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            guard let page = try await store.page(slug: path.joined(separator: "/")) else { throw HTTPError(.notFound) }
            return try await render(page)
        }
    }

    private func render(_ page: Page) async throws -> String {
        let view = views.staticPage(title: page.title, summary: page.summary, bodyHTML: page.bodyHTML, path: page.path, sections: try await store.sections())
        return try theme.render(view, template: "page")
    }

    private func section(_ request: Request, slug: String, page: Int) async throws -> Response {
        guard !ReservedPaths.segments.contains(slug) else { throw HTTPError(.notFound) }
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            guard let section = try await store.section(slug: slug) else { throw HTTPError(.notFound) }
            return try await sectionList(section, page: page)
        }
    }

    private func sectionList(_ section: Section, page: Int) async throws -> String {
        try await list(
            kind: "Section", heading: section.name, description: "The latest \(section.name) news from \(views.site.title).",
            basePath: section.path, page: page, filter: .init(sectionID: section.id), currentSection: section)
    }

    private func tag(_ request: Request, slug: String, page: Int) async throws -> Response {
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            guard let tag = try await store.publicTag(slug: slug) else { throw HTTPError(.notFound) }
            return try await list(
                kind: "Tag", heading: ViewBuilder.hashtag(tag.name),
                description: "Stories tagged \(tag.name) from \(views.site.title).",
                basePath: tag.path, page: page, filter: .init(tagID: tag.id))
        }
    }

    private func author(_ request: Request, slug: String, page: Int) async throws -> Response {
        if let redirect = trailingSlashRedirect(request) { return redirect }
        return try await cached(request) {
            guard let author = try await store.publicAuthor(slug: slug) else { throw HTTPError(.notFound) }
            let bio = MarkdownRenderer.plainText(fromHTML: author.bioHTML)
            return try await list(
                kind: "Author", heading: author.name, subheading: author.title, introHTML: author.bioHTML,
                description: bio.isEmpty ? "Stories by \(author.name) for \(views.site.title)." : String(bio.prefix(200)),
                basePath: author.path, page: page, filter: .init(authorID: author.id),
                structuredData: StructuredData.profile(author, site: views.site))
        }
    }

    /// `/search/?q=…&section=…&tag=…&author=…&from=YYYY-MM-DD&until=YYYY-MM-DD&page=N`. Not cached:
    /// every query is different, and the index answers in milliseconds.
    private func search(_ request: Request) async throws -> Response {
        if let redirect = trailingSlashRedirect(request) { return redirect }
        let parameters = Self.formValues(request.uri.query ?? "")
        func value(_ name: String) -> String? {
            parameters[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
        }
        let text = value("q") ?? ""
        let day = { (name: String) -> Date? in value(name).flatMap { DateParsing.date(from: $0, timeZone: views.site.timeZone) } }
        let page = value("page").flatMap(Int.init).map { max(1, min($0, 1000)) } ?? 1
        let query = SearchQuery(
            text: text, sectionSlug: value("section"), tagSlug: value("tag"), authorSlug: value("author"),
            from: day("from"), until: day("until").map { $0.addingTimeInterval(86_400) })
        let pageSize = Self.pageSize
        let (hits, total) = try await store.search(query, limit: pageSize, offset: (page - 1) * pageSize, bodies: false)
        let view = views.searchPage(
            query: text, sectionSlug: query.sectionSlug, from: value("from") ?? "", until: value("until") ?? "",
            hits: hits.map { ($0.article, $0.snippetHTML) }, total: total, page: page, pageSize: pageSize,
            sections: try await store.sections()
        ) { number in
            var components = URLComponents()
            components.path = "/search/"
            components.queryItems = [("q", text), ("section", query.sectionSlug), ("tag", query.tagSlug), ("author", query.authorSlug),
                                     ("from", value("from")), ("until", value("until")), ("page", String(number))]
                .compactMap { name, value in value.flatMap { $0.isEmpty ? nil : URLQueryItem(name: name, value: $0) } }
            return components.string ?? "/search/"
        }
        let html = try theme.render(view, template: "search")
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if request.method == .head {
            headers[.contentLength] = String(html.utf8.count)
            return Response(status: .ok, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The fields of a form sent with GET (`a=b+c&d=%C3%A9`): `+` is a space, the rest percent-decoded.
    static func formValues(_ query: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), values[name] == nil else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return values
    }

    private func list(
        kind: String, heading: String, subheading: String = "", introHTML: String = "", description: String,
        basePath: String, page: Int, filter: ArticleFilter, currentSection: Section? = nil, structuredData: String? = nil
    ) async throws -> String {
        let now = Date.now
        let total = try await store.countPublishedArticles(filter, now: now)
        let totalPages = max(1, (total + Self.pageSize - 1) / Self.pageSize)
        guard page <= totalPages else { throw HTTPError(.notFound) }
        let articles = try await store.publishedArticles(filter, limit: Self.pageSize, offset: (page - 1) * Self.pageSize, now: now, bodies: false)
        var view = views.listPage(
            kind: kind, heading: heading, subheading: subheading, introHTML: introHTML, description: description,
            basePath: basePath, page: page, totalPages: totalPages, articles: articles,
            sections: try await store.sections(), currentSection: currentSection)
        view.frame.structuredData = structuredData
        return try theme.render(view, template: "list")
    }

    // MARK: Helpers

    /// Serves `request` from the cache, or renders the page with `render` and caches it.
    private func cached(_ request: Request, render: () async throws -> String) async throws -> Response {
        do {
            return try await cache.respond(to: request, render: render)
        } catch let redirect as PageRedirect {
            return Response(status: .movedPermanently, headers: [.location: redirect.location])
        }
    }

    /// Pages live at addresses ending in `/`; others are sent there once and for all.
    private func trailingSlashRedirect(_ request: Request) -> Response? {
        let path = request.uri.path
        guard !path.hasSuffix("/") else { return nil }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        return Response(status: .movedPermanently, headers: [.location: path + "/" + query])
    }

    /// The `:page` parameter: a whole number from 2 up (page 1 is the list's own address).
    private func pageNumber(_ context: some RequestContext) throws -> Int {
        guard let text = context.parameters.get("page"), let page = Int(text), page >= 2, String(page) == text else {
            throw HTTPError(.notFound)
        }
        return page
    }
}

/// Thrown by a page render to send the reader elsewhere (an article whose section changed).
struct PageRedirect: Error {
    var location: String
}
