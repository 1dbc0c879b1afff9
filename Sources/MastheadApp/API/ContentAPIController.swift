import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MastheadCore
import MastheadImaging
import MastheadStorage

/// The read-only Content API under `/api/content/`, in the request and response shape of Ghost's
/// Content API, so front ends and tools written for Ghost can read a Masthead site.
struct ContentAPIController: Sendable {
    let store: Store
    let settings: LiveSiteSettings
    var site: SiteSettings { settings.current }
    let signer: ImageSigner

    static let defaultLimit = 15
    static let maxLimit = 100

    /// Where the API is served: its own address, and Ghost's, so that Ghost's clients and front
    /// ends (which call `/ghost/api/content/`, or `/ghost/api/v5/content/` and the like) keep working.
    static let prefixes = ["/api/content", "/ghost/api/content", "/ghost/api/v4/content", "/ghost/api/v5/content", "/ghost/api/v6/content"]

    func addRoutes(to router: Router<some RequestContext>) {
        for prefix in Self.prefixes { addRoutes(to: router, at: prefix) }
        router.on("/api/openapi.json", method: .options) { _, _ in Self.preflight() }
        router.get("/api/openapi.json") { _, _ in
            var headers = Self.corsHeaders
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json(baseURL: site.baseURL))))
        }
    }

    /// The answer to a browser's CORS preflight: GET from anywhere, with the headers Ghost's client sends.
    static func preflight() -> Response {
        var headers = Self.corsHeaders
        headers[.allow] = "GET, HEAD, OPTIONS"
        headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
        headers[.accessControlAllowHeaders] = "Accept-Version, Content-Type, Authorization"
        headers[.accessControlMaxAge] = "86400"
        return Response(status: .noContent, headers: headers)
    }

    private func addRoutes(to router: Router<some RequestContext>, at prefix: String) {
        let api = router.group(RouterPath(prefix))
        api.get("/posts") { request, _ in try await respond(request) { try await posts(request, slug: nil, id: nil) } }
        api.get("/posts/slug/:slug") { request, context in
            try await respond(request) { try await posts(request, slug: try context.parameters.require("slug"), id: nil) }
        }
        api.get("/posts/:id") { request, context in
            try await respond(request) { try await posts(request, slug: nil, id: try context.parameters.require("id")) }
        }
        api.get("/search") { request, _ in try await respond(request) { try await search(request) } }
        for kind in Listing.allCases {
            api.get(RouterPath("/\(kind.rawValue)")) { request, _ in try await respond(request) { try await listing(kind, request, slug: nil) } }
            api.get(RouterPath("/\(kind.rawValue)/slug/:slug")) { request, context in
                try await respond(request) { try await listing(kind, request, slug: try context.parameters.require("slug")) }
            }
        }
        // CORS preflight on every address; other methods are refused by ReadOnlyAPIMiddleware.
        let paths = ["/posts", "/posts/:id", "/posts/slug/:slug", "/search"]
            + Listing.allCases.flatMap { ["/\($0.rawValue)", "/\($0.rawValue)/slug/:slug"] }
        for path in paths {
            api.on(RouterPath(path), method: .options) { _, _ in Self.preflight() }
        }
    }

    enum Listing: String, CaseIterable {
        case tags, authors, pages, sections
    }

    /// Headers every API response starts from; CORS is added by ``APICORSMiddleware``.
    static let corsHeaders: HTTPFields = [:]

    // MARK: Errors and envelope

    struct APIError: Error {
        var status: HTTPResponse.Status
        var type: String
        var message: String
        var context: String?
    }

    private func respond(_ request: Request, _ body: () async throws -> [String: Any]) async throws -> Response {
        do {
            let parameters = Self.parameters(request)
            guard let key = parameters["key"], try await store.isContentKey(key) else {
                throw APIError(status: .unauthorized, type: "UnauthorizedError", message: "Authorization failed", context: "Unknown Content API Key")
            }
            return Self.json(.ok, try await body())
        } catch let error as APIError {
            var entry: [String: Any] = ["message": error.message, "type": error.type]
            entry["context"] = error.context ?? NSNull()
            return Self.json(error.status, ["errors": [entry]])
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any], extra: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = corsHeaders
        for field in extra { headers[field.name] = field.value }
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = status == .ok ? "public, max-age=60" : "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func parameters(_ request: Request) -> [String: String] {
        PublicSiteController.formValues(request.uri.query ?? "")
    }

    /// `limit` (1–100, or `all` for 100), `page` (1…) and the `fields` and `include` lists.
    private struct Paging {
        var limit: Int
        var page: Int
        var fields: Set<String>?
        var include: Set<String>

        init(_ parameters: [String: String]) throws {
            switch parameters["limit"] {
            case nil, "": limit = ContentAPIController.defaultLimit
            case "all": limit = ContentAPIController.maxLimit
            case let text?:
                guard text.count <= 6, let number = Int(text), number >= 1 else {
                    throw APIError(status: .badRequest, type: "ValidationError", message: "Validation error, cannot list.", context: "limit must be a number from 1 to 100 or 'all', not '\(text)'")
                }
                limit = min(number, ContentAPIController.maxLimit)
            }
            switch parameters["page"] {
            case nil, "": page = 1
            case let text?:
                guard let number = Int(text), number >= 1, number <= 1_000_000 else {
                    throw APIError(status: .badRequest, type: "ValidationError", message: "Validation error, cannot list.", context: "page must be a whole number from 1, not '\(text)'")
                }
                page = number
            }
            let list = { (name: String) -> [String] in
                (parameters[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            fields = list("fields").isEmpty ? nil : Set(list("fields"))
            include = Set(list("include"))
        }

        func meta(total: Int) -> [String: Any] {
            let pages = max(1, (total + limit - 1) / limit)
            return ["pagination": [
                "page": page, "limit": limit, "pages": pages, "total": total,
                "next": page < pages ? (page + 1) as Any : NSNull(), "prev": page > 1 ? (page - 1) as Any : NSNull(),
            ]]
        }

        func select(_ object: [String: Any]) -> [String: Any] {
            guard let fields else { return object }
            return object.filter { fields.contains($0.key) }
        }
    }

    // MARK: Posts

    private func posts(_ request: Request, slug: String?, id: String?) async throws -> [String: Any] {
        let parameters = Self.parameters(request)
        let paging = try Paging(parameters)
        var condition: ArticleCondition?
        if let filter = parameters["filter"], !filter.isEmpty {
            do {
                condition = try ContentFilter.parse(filter, timeZone: site.timeZone)
            } catch {
                throw APIError(status: .badRequest, type: "BadRequestError", message: "Error parsing filter", context: error.message)
            }
        }
        if let slug { condition = .slug(slug) }
        if let id {
            guard let number = Int64(id) else { throw APIError(status: .notFound, type: "NotFoundError", message: "Post not found.") }
            condition = .id(number)
        }
        let order = (parameters["order"].flatMap { $0.isEmpty ? nil : $0 } ?? "published_at desc").lowercased()
        guard ["published_at desc", "published_at asc"].contains(order) else {
            throw APIError(status: .badRequest, type: "BadRequestError", message: "Cannot order by \(order)", context: "posts can be ordered by published_at asc or published_at desc")
        }
        let (articles, total) = try await store.contentArticles(
            matching: condition, orderNewestFirst: !order.hasSuffix("asc"), limit: paging.limit, offset: (paging.page - 1) * paging.limit)
        if (slug != nil || id != nil) && articles.isEmpty {
            throw APIError(status: .notFound, type: "NotFoundError", message: "Post not found.")
        }
        let items = articles.map { paging.select(post($0, include: paging.include)) }
        if slug != nil || id != nil { return ["posts": items] }
        return ["posts": items, "meta": paging.meta(total: total)]
    }

    /// Full-text search: `q` (required), with `section`, `tag`, `author`, `from` and `until` filters;
    /// posts best match first, each with a `snippet` (HTML, matches in `<mark>`).
    private func search(_ request: Request) async throws -> [String: Any] {
        let parameters = Self.parameters(request)
        let paging = try Paging(parameters)
        guard let text = parameters["q"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw APIError(status: .badRequest, type: "ValidationError", message: "Validation error, cannot search.", context: "q (the words to find) is required")
        }
        let day = { (name: String) -> Date? in parameters[name].flatMap { DateParsing.date(from: $0, timeZone: site.timeZone) } }
        let query = SearchQuery(
            text: String(text.prefix(200)), sectionSlug: parameters["section"].flatMap { $0.isEmpty ? nil : $0 },
            tagSlug: parameters["tag"].flatMap { $0.isEmpty ? nil : $0 }, authorSlug: parameters["author"].flatMap { $0.isEmpty ? nil : $0 },
            from: day("from"), until: day("until").map { $0.addingTimeInterval(86_400) })
        let (hits, total) = try await store.search(query, limit: paging.limit, offset: (paging.page - 1) * paging.limit)
        let posts = hits.map { hit -> [String: Any] in
            var object = post(hit.article, include: paging.include)
            object["snippet"] = hit.snippetHTML
            return paging.select(object)
        }
        return ["posts": posts, "meta": paging.meta(total: total)]
    }

    private func post(_ article: Article, include: Set<String>) -> [String: Any] {
        let plain = MarkdownRenderer.plainText(fromHTML: article.bodyHTML)
        let words = plain.split(separator: " ").count
        var object: [String: Any] = [
            "id": String(article.id),
            "uuid": Self.uuid(for: "post/\(article.slug)"),
            "title": article.title,
            "slug": article.slug,
            "html": FeedsController.absolutize(article.bodyHTML, base: site.baseURL),
            "comment_id": String(article.id),
            "feature_image": article.image.map { featureImage($0) } ?? NSNull(),
            "feature_image_alt": article.image?.alt ?? NSNull(),
            "feature_image_caption": article.image.flatMap { $0.caption.isEmpty ? nil : $0.caption } ?? NSNull(),
            "featured": false,
            "visibility": "public",
            "created_at": Self.time(article.publishedAt),
            "updated_at": Self.time(article.modifiedAt),
            "published_at": Self.time(article.publishedAt),
            "custom_excerpt": article.summary.isEmpty ? NSNull() : article.summary,
            "excerpt": article.summary.isEmpty ? String(plain.prefix(500)) : article.summary,
            "reading_time": max(1, (words + 274) / 275),
            "access": true,
            "url": site.absoluteURL(article.path),
            "canonical_url": NSNull(),
            "codeinjection_head": NSNull(), "codeinjection_foot": NSNull(),
            "og_image": NSNull(), "og_title": NSNull(), "og_description": NSNull(),
            "twitter_image": NSNull(), "twitter_title": NSNull(), "twitter_description": NSNull(),
            "meta_title": NSNull(), "meta_description": NSNull(), "email_subject": NSNull(),
            "section": section(article.section),
        ]
        if include.contains("tags") {
            object["tags"] = article.tags.map { tag($0, count: nil) }
            object["primary_tag"] = article.tags.first.map { tag($0, count: nil) } ?? NSNull()
        }
        if include.contains("authors") {
            object["authors"] = article.authors.map { author($0, count: nil) }
            object["primary_author"] = article.authors.first.map { author($0, count: nil) } ?? NSNull()
        }
        return object
    }

    private func featureImage(_ image: FeaturedImage) -> String {
        image.isStored ? site.absoluteURL(signer.url(path: image.source, variant: ImageVariant(width: 2048))) : image.url
    }

    // MARK: Tags, authors, pages, sections

    private func listing(_ kind: Listing, _ request: Request, slug: String?) async throws -> [String: Any] {
        let paging = try Paging(Self.parameters(request))
        let withCounts = paging.include.contains("count.posts")
        var items: [[String: Any]]
        switch kind {
        case .tags:
            // Only what readers can see: a tag or byline used by unpublished stories alone is not listed.
            items = try await store.tagsWithCounts().filter { $0.1 > 0 && (slug == nil || $0.0.slug == slug) }.map { tag($0.0, count: withCounts ? $0.1 : nil) }
        case .authors:
            items = try await store.authorsWithCounts().filter { $0.1 > 0 && (slug == nil || $0.0.slug == slug) }.map { author($0.0, count: withCounts ? $0.1 : nil) }
        case .pages:
            items = try await store.pages().filter { slug == nil || $0.slug == slug }.map(page)
        case .sections:
            items = try await store.sections().filter { slug == nil || $0.slug == slug }.map(section)
        }
        if slug != nil {
            guard !items.isEmpty else {
                throw APIError(status: .notFound, type: "NotFoundError", message: "\(kind.rawValue.dropLast().capitalized) not found.")
            }
            return [kind.rawValue: items.map(paging.select)]
        }
        let total = items.count
        let start = min(total, (paging.page - 1) * paging.limit)
        items = Array(items[start..<min(total, start + paging.limit)])
        return [kind.rawValue: items.map(paging.select), "meta": paging.meta(total: total)]
    }

    private func tag(_ tag: Tag, count: Int?) -> [String: Any] {
        var object: [String: Any] = [
            "id": String(tag.id), "name": tag.name, "slug": tag.slug, "description": NSNull(), "feature_image": NSNull(),
            "visibility": "public", "meta_title": NSNull(), "meta_description": NSNull(), "og_image": NSNull(),
            "og_title": NSNull(), "og_description": NSNull(), "twitter_image": NSNull(), "twitter_title": NSNull(),
            "twitter_description": NSNull(), "codeinjection_head": NSNull(), "codeinjection_foot": NSNull(),
            "canonical_url": NSNull(), "accent_color": NSNull(), "url": site.absoluteURL(tag.path),
        ]
        if let count { object["count"] = ["posts": count] }
        return object
    }

    private func author(_ author: Author, count: Int?) -> [String: Any] {
        let bio = MarkdownRenderer.plainText(fromHTML: author.bioHTML)
        var object: [String: Any] = [
            "id": String(author.id), "name": author.name, "slug": author.slug, "profile_image": NSNull(), "cover_image": NSNull(),
            "bio": bio.isEmpty ? NSNull() : bio, "website": NSNull(), "location": NSNull(), "facebook": NSNull(), "twitter": NSNull(),
            "meta_title": NSNull(), "meta_description": NSNull(), "url": site.absoluteURL(author.path),
        ]
        if let count { object["count"] = ["posts": count] }
        return object
    }

    private func page(_ page: Page) -> [String: Any] {
        [
            "id": page.slug, "uuid": Self.uuid(for: "page/\(page.slug)"), "title": page.title, "slug": page.slug,
            "html": FeedsController.absolutize(page.bodyHTML, base: site.baseURL), "feature_image": NSNull(), "featured": false,
            "visibility": "public", "created_at": Self.time(page.modifiedAt), "updated_at": Self.time(page.modifiedAt),
            "published_at": Self.time(page.modifiedAt), "custom_excerpt": page.summary.isEmpty ? NSNull() : page.summary,
            "excerpt": page.summary, "url": site.absoluteURL(page.path),
        ]
    }

    private func section(_ section: Section) -> [String: Any] {
        ["id": String(section.id), "name": section.name, "slug": section.slug, "url": site.absoluteURL(section.path)]
    }

    // MARK: Helpers

    /// Times as Ghost writes them: UTC with milliseconds.
    static func time(_ date: Date) -> String {
        // Stored times are whole seconds.
        let text = DateText.iso8601(date)
        return text.dropLast() + ".000Z"
    }

    /// A stable UUID for a name (its SHA-256, shaped as a version-5-style UUID).
    static func uuid(for name: String) -> String {
        var bytes = Array(SHA256.hash(data: Data(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.hexEncoded
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}


/// The APIs under `/api/` are read-only for now: any method but GET, HEAD and OPTIONS gets 405
/// with an `Allow` header, whatever the address.
struct ReadOnlyAPIMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/content/") || request.uri.path.hasPrefix("/ghost/api/"),
              ![.get, .head, .options].contains(request.method)
        else {
            return try await next(request, context)
        }
        var headers = ContentAPIController.corsHeaders
        headers[.allow] = "GET, HEAD, OPTIONS"
        return ContentAPIController.json(
            .methodNotAllowed, ["errors": [["message": "This API is read-only: use GET.", "type": "MethodNotAllowedError", "context": NSNull()]]], extra: headers)
    }
}

/// CORS for `/api/`: the origins in `api_cors_origins` may read the APIs from a browser
/// (`*`, the default, lets any site do so, as Ghost's Content API does).
struct APICORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // The Admin API is for servers with keys, never for other sites' pages.
        let path = request.uri.path
        guard path.hasPrefix("/api/") || path.hasPrefix("/ghost/api/"), !path.hasPrefix("/api/admin/") else { return response }
        // Ghost's clients say which version they speak; the answers are the same for every one.
        if request.headers[.acceptVersion] != nil {
            response.headers[.contentVersion] = "v5.0"
            response.headers[values: .vary].append("Accept-Version")
        }
        if origins.contains("*") {
            response.headers[.accessControlAllowOrigin] = "*"
        } else {
            response.headers[.vary] = "Origin"
            if let origin = request.headers[.origin], origins.contains(origin) {
                response.headers[.accessControlAllowOrigin] = origin
            }
        }
        return response
    }
}

extension HTTPField.Name {
    /// Sent by Ghost's Content API clients (`v5.0`).
    static let acceptVersion = HTTPField.Name("Accept-Version")!
    /// Ghost's answer to it.
    static let contentVersion = HTTPField.Name("Content-Version")!
}
