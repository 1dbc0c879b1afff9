import Foundation
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadStorage

/// The Admin API under `/api/admin/`: articles (create, update with a version check, publish,
/// schedule, unpublish, delete, corrections), media upload, tags and sections. Every request
/// carries `Authorization: Bearer <key>` with a key made in the admin, and acts with the role of
/// the key's owner. Errors are JSON: `{"errors": [{"message", "type", "field"}]}`.
struct AdminAPIController: Sendable {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom

    var store: Store { newsroom.store }

    struct Failure: Error {
        var status: HTTPResponse.Status
        var type: String
        var message: String
        var field: String?
        /// Details for a conflict: the current version, who changed it and when.
        var context: [String: any Sendable]? = nil

        init(_ status: HTTPResponse.Status, _ type: String, _ message: String, field: String? = nil) {
            self.status = status
            self.type = type
            self.message = message
            self.field = field
        }

        init(_ error: MastheadError) {
            switch error.code {
            case .forbidden: self.init(.forbidden, "NoPermissionError", error.message)
            case .notFound: self.init(.notFound, "NotFoundError", error.message)
            case .conflict: self.init(.conflict, "ConflictError", error.message)
            case .diskFull, .readOnly, .unavailable: self.init(error.httpStatus, "StorageError", error.message)
            case .storage, .configuration: self.init(.internalServerError, "InternalServerError", "the site could not do this; nothing was changed")
            default: self.init(.unprocessableContent, "ValidationError", error.message)
            }
            field = error.location?.field
        }
    }

    /// Every route and its methods, for 405 answers that say which methods a path takes.
    static let routes: [(pattern: String, methods: [HTTPRequest.Method])] = [
        ("articles", [.get, .post]), ("articles/*", [.get, .put, .delete]), ("articles/*/publish", [.post]),
        ("articles/*/unpublish", [.post]), ("articles/*/submit", [.post]), ("articles/*/schedule", [.post]),
        ("articles/*/corrections", [.post]), ("media", [.get, .post]), ("tags", [.get, .post]), ("sections", [.get, .post]),
    ]

    /// The methods `path` (under `/api/admin/`) takes; empty when no route has that shape.
    static func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.dropFirst("/api/admin/".count).split(separator: "/")
        for route in routes {
            let pattern = route.pattern.split(separator: "/")
            guard pattern.count == segments.count else { continue }
            if zip(pattern, segments).allSatisfy({ $0 == "*" ? Int64($1) != nil : $0 == $1 }) { return route.methods }
        }
        return []
    }

    func addRoutes(to router: Router<Context>) {
        let api = router.group("/api/admin")
        api.get("/articles") { request, context in try await respond(request, context) { user in try await list(request, user: user) } }
        api.post("/articles") { request, context in
            try await respond(request, context, status: .created) { user in
                let body = try await Self.json(request)
                let content = try await content(from: body, base: nil, user: user)
                let saved = try await newsroom.desk.save(id: nil, content: content, basedOn: nil, action: nil, by: user)
                return ["articles": [try await article(saved.id)]]
            }
        }
        api.get("/articles/:id") { request, context in
            try await respond(request, context) { user in
                guard let summary = try await store.articleSummary(id: try id(context)) else { throw Failure(.notFound, "NotFoundError", "no such article") }
                guard user.canEdit(summary) || summary.status == .published else {
                    throw Failure(.forbidden, "NoPermissionError", "you may not read someone else's unpublished article")
                }
                return ["articles": [try await article(summary.id)]]
            }
        }
        api.put("/articles/:id") { request, context in
            try await respond(request, context) { user in
                let articleID = try id(context)
                guard let existing = try await store.editableArticle(id: articleID) else { throw Failure(.notFound, "NotFoundError", "there is no article \(articleID)") }
                let body = try await Self.json(request)
                guard let version = body["version"] as? Int else {
                    throw Failure(.unprocessableContent, "ValidationError", "an update must give the version it is based on (from the article's 'version')", field: "version")
                }
                let content = try await content(from: body, base: existing.content, user: user)
                do {
                    _ = try await newsroom.desk.save(id: articleID, content: content, basedOn: version, action: nil, by: user)
                } catch let conflict as EditConflict {
                    var failure = Failure(.conflict, "UpdateCollisionError", conflict.message(timeZone: newsroom.timeZone), field: "version")
                    failure.context = [
                        "current_version": conflict.currentVersion, "changed_by": conflict.changedBy,
                        "changed_at": ISO8601DateFormatter().string(from: conflict.changedAt),
                    ]
                    throw failure
                }
                return ["articles": [try await article(articleID)]]
            }
        }
        api.delete("/articles/:id") { request, context in
            try await respond(request, context, status: .noContent) { user in
                try await newsroom.desk.delete(try id(context), by: user)
                return [:]
            }
        }
        for (name, action) in [("publish", WorkflowAction.publish), ("unpublish", .unpublish), ("submit", .submitForReview)] {
            api.post("/articles/:id/\(name)") { request, context in
                try await respond(request, context) { user in
                    _ = try await newsroom.desk.apply(action, to: try id(context), by: user)
                    return ["articles": [try await article(try id(context))]]
                }
            }
        }
        api.post("/articles/:id/schedule") { request, context in
            try await respond(request, context) { user in
                let body = try await Self.json(request)
                guard let text = body["publish_at"] as? String, let time = Self.date(text) else {
                    throw Failure(.unprocessableContent, "ValidationError", "give 'publish_at' as an ISO 8601 time such as 2026-12-01T06:00:00Z", field: "publish_at")
                }
                _ = try await newsroom.desk.apply(.schedule(time), to: try id(context), by: user)
                return ["articles": [try await article(try id(context))]]
            }
        }
        api.post("/articles/:id/corrections") { request, context in
            try await respond(request, context, status: .created) { user in
                let body = try await Self.json(request)
                let kind = try (body["kind"] as? String).map {
                    guard let kind = Correction.Kind(rawValue: $0) else {
                        throw Failure(.unprocessableContent, "ValidationError", "'kind' must be correction or update", field: "kind")
                    }
                    return kind
                } ?? .correction
                let correction = try await newsroom.desk.addCorrection(to: try id(context), kind: kind, text: body["text"] as? String ?? "", by: user)
                return ["corrections": [["id": correction.id, "kind": correction.kind.rawValue, "text": correction.text,
                                         "created_at": ISO8601DateFormatter().string(from: correction.createdAt)]]]
            }
        }
        api.get("/media") { request, context in
            try await respond(request, context) { _ in
                let query = PublicSiteController.formValues(request.uri.query ?? "")
                let (items, total) = try await store.mediaItems(search: query["search"], limit: 100)
                return ["media": items.map(Self.media), "meta": ["total": total]]
            }
        }
        api.post("/media") { request, context in
            try await respond(request, context, status: .created) { user in
                let (file, words) = try await upload(request)
                defer { file.removeSpooledFile() }
                let item = try await newsroom.media.upload(
                    file, alt: words["alt"] ?? "", caption: words["caption"] ?? "", credit: words["credit"] ?? "", by: user)
                return ["media": [Self.media(item)]]
            }
        }
        api.get("/tags") { request, context in
            try await respond(request, context) { _ in
                ["tags": try await store.allTags().map { ["id": $0.0.id, "slug": $0.0.slug, "name": $0.0.name, "count": $0.1] }]
            }
        }
        api.post("/tags") { request, context in
            try await respond(request, context, status: .created) { user in
                guard user.role >= .editor else { throw Failure(.forbidden, "NoPermissionError", "only editors manage tags") }
                let name = try Self.string(try await Self.json(request), "name", required: true)
                let tag = try await store.addTag(name: name)
                return ["tags": [["id": tag.id, "slug": tag.slug, "name": tag.name]]]
            }
        }
        api.get("/sections") { request, context in
            try await respond(request, context) { _ in
                ["sections": try await store.sections().map { ["id": $0.id, "slug": $0.slug, "name": $0.name] }]
            }
        }
        api.post("/sections") { request, context in
            try await respond(request, context, status: .created) { user in
                guard user.role >= .editor else { throw Failure(.forbidden, "NoPermissionError", "only editors manage sections") }
                let section = try await store.addSection(name: try Self.string(try await Self.json(request), "name", required: true))
                return ["sections": [["id": section.id, "slug": section.slug, "name": section.name]]]
            }
        }
    }

    // MARK: Handling

    private func respond(
        _ request: Request, _ context: Context, status: HTTPResponse.Status = .ok, _ body: (User) async throws -> [String: Any]
    ) async throws -> Response {
        do {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
                  let user = try await store.userForAPIKey(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            else {
                throw Failure(.unauthorized, "UnauthorizedError", "send a valid Admin API key as 'Authorization: Bearer <key>'")
            }
            let object = try await body(user)
            if status == .noContent { return Response(status: .noContent, headers: [.cacheControl: "no-store"]) }
            return Self.respondJSON(status, object)
        } catch let failure as Failure {
            return Self.error(failure)
        } catch let error as MastheadError {
            return Self.error(Failure(error))
        } catch let error where MastheadError.storageFault(error) != nil {
            return Self.error(Failure(MastheadError.storageFault(error)!))
        } catch let error as HTTPError {
            // A body that cannot be read at all (a broken multipart form, too large).
            let type = error.status == .contentTooLarge ? "RequestTooLargeError" : error.status == .unsupportedMediaType ? "UnsupportedMediaTypeError" : "BadRequestError"
            return Self.error(Failure(error.status, type, error.body ?? "the request cannot be read"))
        }
    }

    static func error(_ failure: Failure) -> Response {
        var entry: [String: Any] = ["message": failure.message, "type": failure.type, "field": failure.field ?? NSNull()]
        if let context = failure.context { entry["context"] = context }
        var response = respondJSON(failure.status, ["errors": [entry]])
        if failure.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"masthead-admin\"" }
        return response
    }

    static func respondJSON(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        var response = ContentAPIController.json(status, object)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The request's JSON object; anything else is a 400 that says what is wrong.
    static func json(_ request: Request) async throws -> [String: Any] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 4 * 1_048_576)
        } catch {
            throw Failure(.contentTooLarge, "RequestTooLargeError", "the JSON body is larger than 4 MB")
        }
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
            throw Failure(.unsupportedMediaType, "UnsupportedMediaTypeError", "send the body as application/json")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw Failure(.badRequest, "BadRequestError", "the body is not a JSON object")
        }
        return object
    }

    static func string(_ body: [String: Any], _ name: String, required: Bool = false) throws -> String {
        guard let value = body[name], !(value is NSNull) else {
            if required { throw Failure(.unprocessableContent, "ValidationError", "'\(name)' is required", field: name) }
            return ""
        }
        guard let text = value as? String else { throw Failure(.unprocessableContent, "ValidationError", "'\(name)' must be a string", field: name) }
        return text
    }

    /// The article's new content from a JSON body: given fields replace `base`'s, absent ones stay.
    private func content(from body: [String: Any], base: ArticleContent?, user: User) async throws -> ArticleContent {
        func text(_ name: String, _ current: String) throws -> String {
            body[name] == nil ? current : try Self.string(body, name)
        }
        var sectionID = base?.sectionID
        if let section = body["section"] {
            if let number = section as? Int, let found = try await store.sections().first(where: { $0.id == Int64(number) }) {
                sectionID = found.id
            } else if let slug = section as? String, let found = try await store.section(slug: slug) {
                sectionID = found.id
            } else {
                throw Failure(.unprocessableContent, "ValidationError", "'section' must be the slug or id of an existing section", field: "section")
            }
        }
        guard let sectionID else {
            throw Failure(.unprocessableContent, "ValidationError", "'section' is required: the slug or id of a section", field: "section")
        }
        var content = base ?? ArticleContent(title: "", sectionID: sectionID)
        content.sectionID = sectionID
        content.title = try text("title", content.title)
        content.summary = try text("summary", content.summary)
        content.bodyMarkdown = try text("body", content.bodyMarkdown)
        content.slug = try text("slug", content.slug)
        content.seoTitle = try text("seo_title", content.seoTitle)
        content.seoDescription = try text("seo_description", content.seoDescription)
        if let value = body["disclaimer"] {
            guard let flag = value as? Bool else { throw Failure(.unprocessableContent, "ValidationError", "'disclaimer' must be true or false", field: "disclaimer") }
            content.disclaimer = flag
        }
        if let value = body["tags"] {
            guard let names = value as? [String] else { throw Failure(.unprocessableContent, "ValidationError", "'tags' must be a list of names", field: "tags") }
            content.tagNames = names
        }
        if let value = body["authors"] {
            guard let ids = value as? [Int] else { throw Failure(.unprocessableContent, "ValidationError", "'authors' must be a list of author ids", field: "authors") }
            content.authorIDs = ids.map(Int64.init)
        }
        if let value = body["image"] {
            if value is NSNull {
                content.image = nil
            } else if let image = value as? [String: Any] {
                if let mediaID = image["media_id"] {
                    guard let number = mediaID as? Int, let item = try await store.media(id: Int64(number)) else {
                        throw Failure(.unprocessableContent, "ValidationError", "'image.media_id' must be the id of an item in the media library", field: "image.media_id")
                    }
                    content.image = item.featuredImage
                }
                guard content.image != nil else {
                    throw Failure(.unprocessableContent, "ValidationError", "'image' needs a 'media_id' (upload to /api/admin/media/ first)", field: "image.media_id")
                }
                for (name, keyPath) in [("alt", \FeaturedImage.alt), ("caption", \FeaturedImage.caption), ("credit", \FeaturedImage.credit)] where image[name] != nil {
                    guard let words = image[name] as? String else {
                        throw Failure(.unprocessableContent, "ValidationError", "'image.\(name)' must be a string", field: "image.\(name)")
                    }
                    content.image?[keyPath: keyPath] = words
                }
            } else {
                throw Failure(.unprocessableContent, "ValidationError", "'image' must be an object with 'media_id' and 'alt', or null", field: "image")
            }
        }
        return content
    }

    /// The file of a media upload: the raw body (its name in `?filename=`) or the `file` part of a
    /// multipart form. Either way it is written to a temporary file as it arrives, never held whole
    /// in memory; the caller removes it (``UploadedFile/storage``) when done.
    private func upload(_ request: Request) async throws -> (UploadedFile, [String: String]) {
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        let limit = newsroom.site.configuration.imageLimits.maxBytes
        let spool = newsroom.site.configuration.mediaDirectory + "/.incoming"
        if (request.headers[.contentType] ?? "").lowercased().hasPrefix("multipart/form-data") {
            let form = try await FormData.read(request, limits: FormLimits(bodyBytes: limit + 1_048_576, fieldBytes: 64 * 1024, spoolDirectory: spool))
            guard let file = form.files["file"] else {
                form.removeSpooledFiles()
                throw Failure(.unprocessableContent, "ValidationError", "the multipart form has no 'file' part", field: "file")
            }
            for extra in form.spooledPaths where extra != file.spooledPath { try? FileManager.default.removeItem(atPath: extra) }
            return (file, ["alt": form["alt"], "caption": form["caption"], "credit": form["credit"]])
        }
        let tooLarge = Failure(.contentTooLarge, "RequestTooLargeError", "images may be at most \(MediaLibrary.megabytes(limit))", field: "file")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        let (path, size) = try await Self.spool(request.body, into: spool, limit: limit, tooLarge: tooLarge)
        let file = UploadedFile(filename: query["filename"] ?? "upload", contentType: request.headers[.contentType] ?? "", spooledAt: path, size: size)
        return (file, ["alt": query["alt"] ?? "", "caption": query["caption"] ?? "", "credit": query["credit"] ?? ""])
    }

    /// Writes a request body into a new file in `folder` as it arrives, up to `limit` bytes.
    private static func spool(_ body: RequestBody, into folder: String, limit: Int, tooLarge: Failure) async throws -> (path: String, size: Int) {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + UUID().uuidString + ".upload"
        guard manager.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure(.insufficientStorage, "StorageError", "the upload cannot be written to disk; nothing was changed")
        }
        var size = 0
        do {
            defer { try? handle.close() }
            for try await chunk in body {
                size += chunk.readableBytes
                guard size <= limit else { throw tooLarge }
                try handle.write(contentsOf: chunk.readableBytesView)
            }
        } catch {
            try? manager.removeItem(atPath: path)
            if let failure = error as? Failure { throw failure }
            throw Failure(.insufficientStorage, "StorageError", "the upload cannot be written to disk (is it full?); nothing was changed")
        }
        return (path, size)
    }

    /// Articles in any state for editors; others see their own and what is published.
    private func list(_ request: Request, user: User) async throws -> [String: Any] {
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        var status: ArticleStatus?
        if let text = query["status"] {
            guard let value = ArticleStatus(rawValue: text) else {
                throw Failure(.badRequest, "ValidationError", "'status' must be one of: \(ArticleStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            status = value
        }
        let limit = min(100, max(1, query["limit"].flatMap(Int.init) ?? 15))
        let page = max(1, min(100_000, query["page"].flatMap(Int.init) ?? 1))
        var filter = EditorialFilter(status: status)
        if user.role < .editor { filter.visibleTo = user.id }
        let (summaries, total) = try await store.editorialArticles(filter, limit: limit, offset: (page - 1) * limit)
        var articles: [[String: Any]] = []
        for summary in summaries { articles.append(try await article(summary.id)) }
        let pages = max(1, (total + limit - 1) / limit)
        return ["articles": articles, "meta": ["pagination": [
            "page": page, "limit": limit, "pages": pages, "total": total,
            "next": page < pages ? page + 1 as Any : NSNull(), "prev": page > 1 ? page - 1 as Any : NSNull(),
        ]]]
    }

    private func article(_ id: Int64) async throws -> [String: Any] {
        guard let article = try await store.editableArticle(id: id) else { throw Failure(.notFound, "NotFoundError", "there is no article \(id)") }
        let authors = try await store.allAuthors().map(\.0)
        let summary = article.summary, content = article.content
        let iso = ISO8601DateFormatter()
        return [
            "id": summary.id, "slug": summary.slug, "title": content.title, "summary": content.summary, "body": content.bodyMarkdown,
            "status": summary.status.rawValue, "version": summary.version,
            "url": newsroom.site.settings.current.absoluteURL(summary.path),
            "section": ["id": summary.section.id, "slug": summary.section.slug, "name": summary.section.name],
            "tags": content.tagNames,
            "authors": content.authorIDs.compactMap { id in authors.first { $0.id == id } }.map { ["id": $0.id, "slug": $0.slug, "name": $0.name] },
            "image": content.image.map { image -> [String: Any] in
                ["source": image.source, "url": image.url, "alt": image.alt, "caption": image.caption, "credit": image.credit,
                 "width": image.width ?? NSNull(), "height": image.height ?? NSNull()]
            } ?? NSNull(),
            "disclaimer": content.disclaimer, "seo_title": content.seoTitle, "seo_description": content.seoDescription,
            "published_at": iso.string(from: summary.publishedAt), "modified_at": iso.string(from: summary.modifiedAt),
            "corrections": article.corrections.map { ["id": $0.id, "kind": $0.kind.rawValue, "text": $0.text, "created_at": iso.string(from: $0.createdAt)] },
        ]
    }

    static func media(_ item: MediaItem) -> [String: Any] {
        [
            "id": item.id, "path": item.path, "url": "/media/" + item.path, "name": item.originalName, "format": item.format,
            "width": item.width, "height": item.height, "bytes": item.bytes, "alt": item.alt, "caption": item.caption, "credit": item.credit,
            "created_at": ISO8601DateFormatter().string(from: item.createdAt),
        ]
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    private func id(_ context: Context) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw Failure(.notFound, "NotFoundError", "no such article") }
        return id
    }
}

/// Answers in JSON under `/api/admin/` when no route matched: 405 with `Allow` when the path
/// exists with other methods, 404 otherwise.
struct AdminAPIFallbackMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/admin/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = AdminAPIController.methods(for: request.uri.path)
            guard !methods.isEmpty else {
                return AdminAPIController.error(.init(.notFound, "NotFoundError", "there is no Admin API route at \(request.uri.path)"))
            }
            var response = AdminAPIController.error(.init(
                .methodNotAllowed, "MethodNotAllowedError", "\(request.uri.path) takes \(methods.map(\.rawValue).joined(separator: ", "))"))
            response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            return response
        }
    }
}
