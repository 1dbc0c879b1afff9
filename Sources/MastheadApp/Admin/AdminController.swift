import Foundation
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadImaging
import MastheadRendering
import MastheadStorage

/// The newsroom's pages under `/admin/`: sign-in, articles and the editor, revisions, media,
/// sections, tags, authors, accounts, settings and keys. Every page works without JavaScript.
struct AdminController: Sendable {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom

    var store: Store { newsroom.store }
    var timeZone: TimeZone { newsroom.timeZone }

    func addRoutes(to router: Router<Context>) {
        router.get("/admin") { _, _ in AdminPages.redirect("/admin/articles/") }
        router.get("/admin/login") { request, context in signInPage(request, context) }
        router.post("/admin/login") { request, context in try await signIn(request, context) }
        router.post("/admin/logout") { request, context in try await signOut(request, context) }
        router.get("/admin/set-password/:token") { request, context in try await setPasswordPage(request, context) }
        router.post("/admin/set-password/:token") { request, context in try await setPassword(request, context) }

        router.get("/admin/articles") { request, context in try await articleList(request, context) }
        router.get("/admin/articles/new") { request, context in try await newArticle(request, context) }
        router.post("/admin/articles/new") { request, context in try await saveArticle(nil, request, context) }
        router.get("/admin/articles/:id") { request, context in try await editArticle(request, context) }
        router.post("/admin/articles/:id") { request, context in try await saveArticle(try Self.id(context), request, context) }
        router.get("/admin/articles/:id/delete") { request, context in try await confirmDelete(request, context) }
        router.post("/admin/articles/:id/delete") { request, context in try await deleteArticle(request, context) }
        router.post("/admin/articles/:id/preview-link") { request, context in try await previewLink(request, context) }
        router.post("/admin/articles/:id/corrections") { request, context in try await addCorrection(request, context) }
        router.get("/admin/articles/:id/revisions") { request, context in try await revisions(request, context) }
        router.get("/admin/articles/:id/revisions/:revision") { request, context in try await revision(request, context) }
        router.post("/admin/articles/:id/revisions/:revision/restore") { request, context in try await restore(request, context) }
        router.post("/admin/preview") { _, context in try preview(context) }

        router.get("/admin/media") { request, context in try await mediaList(request, context) }
        router.post("/admin/media") { request, context in try await upload(request, context) }
        router.get("/admin/media/:id") { request, context in try await mediaItem(request, context) }
        router.post("/admin/media/:id") { request, context in try await saveMedia(request, context) }
        router.post("/admin/media/:id/delete") { request, context in try await deleteMedia(request, context) }

        AdminManagement(newsroom: newsroom).addRoutes(to: router)
        AdminPrivacy(newsroom: newsroom).addRoutes(to: router)
        AdminTips(newsroom: newsroom, tips: newsroom.site.tips).addRoutes(to: router)
    }

    // MARK: Signing in

    private func signInPage(_ request: Request, _ context: Context, error: String? = nil, email: String = "", status: HTTPResponse.Status = .ok) -> Response {
        if context.session != nil, error == nil { return AdminPages.redirect("/admin/articles/") }
        let token = newsroom.signInToken(request)
        let next = PublicSiteController.formValues(request.uri.query ?? "")["next"] ?? ""
        var response = AdminPages.render(
            newsroom, "login", title: "Sign in", context: context, request: request, status: status, error: error,
            values: ["csrf": token, "next": Self.safeNext(next), "email": email])
        response.setCookie(Cookie(
            name: newsroom.signInCookieName, value: token, path: "/", secure: newsroom.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    private func signIn(_ request: Request, _ context: Context) async throws -> Response {
        let form = context.form ?? FormData()
        let email = form["email"]
        do {
            let (_, token) = try await newsroom.accounts.signIn(email: email, password: form.raw("password"), client: context.clientName)
            var response = AdminPages.redirect(Self.safeNext(form["next"]).nonEmpty ?? "/admin/articles/")
            response.setCookie(Cookie(
                name: newsroom.sessionCookieName, value: token, maxAge: Int(newsroom.site.configuration.signIn.sessionLifetime), path: "/",
                secure: newsroom.secureCookies, httpOnly: true, sameSite: .lax))
            return response
        } catch let refusal as SignInRefusal {
            let message = switch refusal {
            case .wrongCredentials: "The email address or password is not right."
            case .accountLocked(let until):
                "Too many failed sign-ins for this account: it is locked until \(AdminPages.date(until, timeZone)) (\(timeZone.identifier)). Wait, or ask an admin for a password reset link."
            case .clientLocked(let until):
                "Too many failed sign-ins from your connection: try again after \(AdminPages.date(until, timeZone)) (\(timeZone.identifier))."
            }
            let status: HTTPResponse.Status = refusal == .wrongCredentials ? .unauthorized : .tooManyRequests
            return signInPage(request, context, error: message, email: email, status: status)
        }
    }

    private func signOut(_ request: Request, _ context: Context) async throws -> Response {
        if let token = request.cookies[newsroom.sessionCookieName]?.value { try await store.endSession(token: token) }
        try await newsroom.site.tips.lock(session: context.session?.token ?? "")
        var response = AdminPages.redirect("/admin/login/", notice: "signed-out")
        response.setCookie(Cookie(name: newsroom.sessionCookieName, value: "", maxAge: 0, path: "/", secure: newsroom.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    /// Only paths inside the newsroom may follow sign-in: never another site.
    static func safeNext(_ next: String) -> String {
        next.hasPrefix("/admin/") && !next.contains("//") && !next.contains("\\") && !next.contains("..")
            && !next.unicodeScalars.contains { CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0) } ? next : ""
    }

    private func setPasswordPage(_ request: Request, _ context: Context, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let token = try context.parameters.require("token")
        guard let user = try await store.userForToken(token) else {
            return AdminPages.messagePage(
                newsroom, context: context, status: .notFound, title: "This link has expired",
                message: "The link was used already or is too old. Ask an admin of your newsroom for a new one.")
        }
        let csrf = newsroom.signInToken(request)
        var response = AdminPages.render(
            newsroom, "set-password", title: "Choose your password", context: context, request: request, status: status, error: error,
            values: ["csrf": csrf, "email": user.email, "action": "/admin/set-password/\(token)/"])
        response.setCookie(Cookie(name: newsroom.signInCookieName, value: csrf, path: "/", secure: newsroom.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    private func setPassword(_ request: Request, _ context: Context) async throws -> Response {
        let token = try context.parameters.require("token")
        let form = context.form ?? FormData()
        guard let user = try await store.userForToken(token) else { return try await setPasswordPage(request, context) }
        guard form.raw("password") == form.raw("confirm") else {
            return try await setPasswordPage(request, context, error: "The two passwords differ.", status: .unprocessableContent)
        }
        do {
            try await newsroom.accounts.setPassword(form.raw("password"), for: user.id)
        } catch let error as MastheadError {
            return try await setPasswordPage(request, context, error: error.message, status: .unprocessableContent)
        }
        return AdminPages.redirect("/admin/login/", notice: "password-set")
    }

    // MARK: Articles

    private func articleList(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        let status = query["status"].flatMap(ArticleStatus.init(rawValue:))
        var filter = EditorialFilter(
            status: status, sectionID: query["section"].flatMap(Int64.init), authorID: query["author"].flatMap(Int64.init),
            tagID: query["tag"].flatMap(Int64.init), titleSearch: query["q"].map { String($0.prefix(200)) })
        // Below editor, the list shows your own stories and what is published, as the Admin API does:
        // others' drafts and scheduled stories may be embargoed.
        if user.role < .editor { filter.visibleTo = user.id }
        let pageSize = 50
        let page = max(1, min(100_000, query["page"].flatMap(Int.init) ?? 1))
        let (articles, total) = try await store.editorialArticles(filter, limit: pageSize, offset: (page - 1) * pageSize)
        let pages = max(1, (total + pageSize - 1) / pageSize)
        func pageLink(_ number: Int) -> String {
            var components = URLComponents()
            components.path = "/admin/articles/"
            components.queryItems = query.filter { $0.key != "page" && $0.key != "notice" }.sorted { $0.key < $1.key }
                .map { URLQueryItem(name: $0.key, value: $0.value) } + [URLQueryItem(name: "page", value: String(number))]
            return components.string ?? "/admin/articles/"
        }
        let sections = try await store.sections()
        let authors = try await store.allAuthors().map(\.0)
        let tags = try await store.allTags().map(\.0)
        let values: [String: Any] = [
            "filter": ["q": query["q"] ?? ""],
            "statuses": AdminPages.options(ArticleStatus.allCases, value: \.rawValue, label: \.label) { $0 == status },
            "sections": AdminPages.options(sections, value: { String($0.id) }, label: \.name) { $0.id == filter.sectionID },
            "authors": AdminPages.options(authors, value: { String($0.id) }, label: \.name) { $0.id == filter.authorID },
            "tags": AdminPages.options(tags, value: { String($0.id) }, label: \.name) { $0.id == filter.tagID },
            "total": total, "single": total == 1, "hasArticles": !articles.isEmpty,
            "articles": articles.map { article -> [String: Any] in
                [
                    "id": article.id, "title": article.title, "path": article.path, "status": article.status.rawValue,
                    "statusLabel": article.status.label, "isPublished": article.status == .published,
                    "scheduledFor": article.status == .scheduled ? AdminPages.date(article.publishedAt, timeZone) : nil as String? as Any,
                    "section": article.section.name, "authors": article.authorNames.joined(separator: ", "),
                    "modified": AdminPages.date(article.modifiedAt, timeZone), "modifiedBy": article.modifiedByName as Any,
                    "canEdit": user.canEdit(article),
                ]
            },
            "pagination": pages > 1 ? [
                "page": page, "pages": pages,
                "previous": page > 1 ? pageLink(page - 1) as Any : nil as String? as Any, "next": page < pages ? pageLink(page + 1) as Any : nil as String? as Any,
            ] as [String: Any] as Any : nil as [String: Any]? as Any,
        ]
        return AdminPages.render(newsroom, "articles", title: "Articles", context: context, request: request, values: values)
    }

    private func newArticle(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let section = try await store.sections().first else {
            return AdminPages.messagePage(
                newsroom, context: context, status: .conflict, title: "No sections yet",
                message: "Articles are filed in sections. An editor must add a section first.",
                link: user.role >= .editor ? ("Add a section", "/admin/taxonomy/") : nil)
        }
        let content = ArticleContent(title: "", sectionID: section.id, authorIDs: user.authorID.map { [$0] } ?? [])
        return try await editorPage(
            request, context, form: EditorForm(content: content), summary: nil, corrections: [], status: .ok, error: nil)
    }

    private func editArticle(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let article = try await store.editableArticle(id: try Self.id(context)) else { throw HTTPError(.notFound) }
        guard user.canEdit(article.summary) else { throw HTTPError(.forbidden, message: "You may not edit “\(article.summary.title)”.") }
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        return try await editorPage(
            request, context, form: EditorForm(content: article.content), summary: article.summary, corrections: article.corrections,
            status: .ok, error: nil, previewLink: query["preview"].map { newsroom.site.settings.current.absoluteURL("/preview/\($0)/") })
    }

    private func saveArticle(_ articleID: Int64?, _ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let form = context.form ?? FormData()
        let existing = try await articleID.asyncMap { try await store.editableArticle(id: $0) }
        if articleID != nil, existing == nil { throw HTTPError(.notFound) }
        var editor = try await EditorForm(form: form, store: store, currentImage: existing?.content.image)
        let action = form["action"]
        func again(_ status: HTTPResponse.Status, _ error: String?, conflict: EditConflict? = nil) async throws -> Response {
            try await editorPage(
                request, context, form: editor, summary: existing?.summary, corrections: existing?.corrections ?? [], status: status,
                error: error, conflict: conflict, preview: action == "preview")
        }
        if action == "preview" { return try await again(.ok, nil) }
        do {
            let workflow: WorkflowAction? = switch action {
            case "review": .submitForReview
            case "publish": .publish
            case "unpublish": .unpublish
            case "schedule":
                .schedule(try AdminPages.parseLocalInput(form["publish_at"], timeZone) ?? {
                    throw MastheadError(.invalidInput, "give a date and time to publish at", location: .init(field: "publish_at"))
                }())
            default: nil
            }
            if let file = form.files["image_file"] {
                guard !form["image_alt"].isEmpty else {
                    throw MastheadError(.invalidInput, "the featured image needs alt text describing it for readers who cannot see it", location: .init(field: "image_alt"))
                }
                let item = try await newsroom.media.upload(
                    file, alt: form["image_alt"], caption: form["image_caption"], credit: form["image_credit"], by: user)
                editor.content.image = item.featuredImage
                editor.mediaChoice = "keep"
            }
            let version = articleID == nil ? nil : Int(form["version"])
            let saved = try await newsroom.desk.save(id: articleID, content: editor.content, basedOn: version, action: workflow, by: user)
            let notice = switch workflow {
            case .publish: "published"
            case .schedule: "scheduled"
            case .submitForReview: "review"
            case .unpublish: "unpublished"
            default: "saved"
            }
            return AdminPages.redirect("/admin/articles/\(saved.id)/", notice: notice)
        } catch let conflict as EditConflict {
            editor.version = conflict.currentVersion
            return try await again(.conflict, nil, conflict: conflict)
        } catch let error as MastheadError {
            return try await again(AdminPages.status(for: error), AdminPages.sentence(error))
        }
    }

    private func editorPage(
        _ request: Request, _ context: Context, form: EditorForm, summary: ArticleSummary?, corrections: [Correction],
        status: HTTPResponse.Status, error: String?, conflict: EditConflict? = nil, preview: Bool = false, previewLink: String? = nil
    ) async throws -> Response {
        let user = try Self.user(context)
        let content = form.content
        let sections = try await store.sections()
        let authors = try await store.allAuthors().map(\.0)
        let tagNames = try await store.allTags().map(\.0.name)
        let mediaChoices = try await store.mediaItems(limit: 200).items
        let ownDraft = summary ?? ArticleSummary(
            id: 0, slug: "", title: "", status: .draft, section: Section(id: 0, slug: "", name: ""), authorNames: [], createdBy: user.id,
            publishedAt: .now, modifiedAt: .now, modifiedByName: nil, version: 0)
        let articleStatus = summary?.status ?? .draft
        let orderedAuthors = content.authorIDs.compactMap { id in authors.first { $0.id == id } } + authors.filter { !content.authorIDs.contains($0.id) }
        var values: [String: Any] = [
            "action": summary.map { "/admin/articles/\($0.id)/" } ?? "/admin/articles/new/",
            "version": form.version ?? summary?.version ?? 0,
            "content": [
                "title": content.title, "summary": content.summary, "body": content.bodyMarkdown, "slug": summary == nil && content.slug.isEmpty ? "" : content.slug,
                "tags": content.tagNames.joined(separator: ", "), "disclaimer": content.disclaimer,
                "imageAlt": content.image?.alt ?? form.imageAlt, "imageCaption": content.image?.caption ?? form.imageCaption,
                "imageCredit": content.image?.credit ?? form.imageCredit, "seoTitle": content.seoTitle, "seoDescription": content.seoDescription,
            ] as [String: Any],
            "previewHTML": newsroom.desk.previewMarkdown.html(from: content.bodyMarkdown),
            "sections": AdminPages.options(sections, value: { String($0.id) }, label: \.name) { $0.id == content.sectionID },
            "authors": AdminPages.options(orderedAuthors, value: { String($0.id) }, label: \.name) { content.authorIDs.contains($0.id) },
            "tagSuggestions": tagNames,
            "mediaChoices": mediaChoices.filter { $0.path != content.image?.source }.map { ["value": String($0.id), "label": "\($0.originalName)\($0.alt.isEmpty ? "" : " – " + $0.alt)"] },
            "status": articleStatus.rawValue, "statusLabel": articleStatus.label,
            "scheduledFor": articleStatus == .scheduled ? summary.map { AdminPages.date($0.publishedAt, timeZone) } as Any : nil as String? as Any,
            "canPublish": user.canPublish(ownDraft), "isPublic": articleStatus == .published || articleStatus == .scheduled,
            "timeZone": timeZone.identifier,
            "publishAt": AdminPages.localInput(articleStatus == .scheduled ? ownDraft.publishedAt : Date.now.addingTimeInterval(3600), timeZone),
        ]
        if let image = content.image {
            values["currentImage"] = [
                "thumbnail": image.isStored ? ImageSigner.presetURL(path: image.source, width: 320) : image.url, "alt": image.alt,
                "name": (image.source as NSString).lastPathComponent,
            ]
        }
        if let summary {
            values["articleID"] = summary.id
            values["publicPath"] = summary.status == .published ? summary.path : nil as String? as Any
            values["canDelete"] = user.canDelete(summary)
            values["canCorrect"] = user.role >= .editor && summary.status == .published
            values["corrections"] = corrections.map { ["kindLabel": $0.kind == .correction ? "Correction" : "Update", "date": AdminPages.date($0.createdAt, timeZone), "text": $0.text] }
            values["previewLink"] = previewLink as Any
        }
        if let conflict, let summary {
            values["conflict"] = [
                "message": conflict.message(timeZone: timeZone), "articleID": summary.id,
                "revisionPath": conflict.keptRevision.map { "/admin/articles/\(summary.id)/revisions/\($0)/" } as Any,
            ]
        }
        let title = summary.map { "Edit: \($0.title)" } ?? "New article"
        return AdminPages.render(
            newsroom, "editor", title: preview ? title + " (preview, not saved)" : title, context: context, request: request, status: status,
            error: error, values: values)
    }

    private func confirmDelete(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let article = try await store.articleSummary(id: try Self.id(context)) else { throw HTTPError(.notFound) }
        guard user.canDelete(article) else { throw HTTPError(.forbidden, message: "You may not delete “\(article.title)”.") }
        return AdminPages.render(newsroom, "confirm", title: "Delete “\(article.title)”?", context: context, request: request, values: [
            "question": "The article, its revisions and corrections will be deleted for good\(article.status == .published ? ", and its page will no longer exist" : "").",
            "action": "/admin/articles/\(article.id)/delete/", "confirmLabel": "Delete the article", "cancelPath": "/admin/articles/\(article.id)/",
        ])
    }

    private func deleteArticle(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        try await handling(context) { try await newsroom.desk.delete(try Self.id(context), by: user) }
        return AdminPages.redirect("/admin/articles/", notice: "deleted")
    }

    private func previewLink(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let articleID = try Self.id(context)
        guard let article = try await store.articleSummary(id: articleID) else { throw HTTPError(.notFound) }
        guard user.canEdit(article) else { throw HTTPError(.forbidden) }
        let token = try await store.createPreviewToken(articleID: articleID, lifetime: 7 * 86_400)
        return AdminPages.redirect("/admin/articles/\(articleID)/?preview=\(token)")
    }

    private func addCorrection(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let form = context.form ?? FormData()
        let articleID = try Self.id(context)
        let kind = Correction.Kind(rawValue: form["kind"]) ?? .correction
        try await handling(context) { _ = try await newsroom.desk.addCorrection(to: articleID, kind: kind, text: form["text"], by: user) }
        return AdminPages.redirect("/admin/articles/\(articleID)/", notice: "corrected")
    }

    /// `POST /admin/preview/` with `body`: the Markdown as the article page will show it (for the live preview).
    private func preview(_ context: Context) throws -> Response {
        _ = try Self.user(context)
        let html = newsroom.desk.previewMarkdown.html(from: context.form?.raw("body") ?? "")
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Revisions

    private func revisions(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let article = try await store.articleSummary(id: try Self.id(context)) else { throw HTTPError(.notFound) }
        guard user.canEdit(article) else { throw HTTPError(.forbidden) }
        let revisions = try await store.revisions(articleID: article.id)
        return AdminPages.render(newsroom, "revisions", title: "Revisions of “\(article.title)”", context: context, request: request, values: [
            "articleID": article.id,
            "revisions": revisions.map { revision -> [String: Any] in
                ["id": revision.id, "articleID": article.id, "version": revision.version, "date": AdminPages.date(revision.createdAt, timeZone),
                 "user": revision.userName, "kindLabel": Self.kindLabel(revision.kind), "title": revision.content.title]
            },
        ])
    }

    private func revision(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let current = try await store.editableArticle(id: try Self.id(context)),
              let revisionID = context.parameters.get("revision").flatMap(Int64.init),
              let revision = try await store.revision(id: revisionID), revision.articleID == current.summary.id
        else { throw HTTPError(.notFound) }
        guard user.canEdit(current.summary) else { throw HTTPError(.forbidden) }
        let old = revision.content, new = current.content
        var fieldChanges: [[String: String]] = []
        for (name, before, after) in [
            ("Headline", old.title, new.title), ("Dek", old.summary, new.summary), ("Slug", old.slug, new.slug),
            ("Tags", old.tagNames.joined(separator: ", "), new.tagNames.joined(separator: ", ")),
            ("Featured image", old.image?.source ?? "none", new.image?.source ?? "none"),
        ] where before != after {
            fieldChanges.append(["name": name, "before": before, "after": after])
        }
        let lines = LineDiff.lines(from: old.bodyMarkdown, to: new.bodyMarkdown)
        return AdminPages.render(
            newsroom, "revision", title: "Version \(revision.version) of “\(current.summary.title)”", context: context, request: request,
            values: [
                "articleID": current.summary.id, "revisionID": revision.id, "savedBy": revision.userName,
                "date": AdminPages.date(revision.createdAt, timeZone), "kindLabel": Self.kindLabel(revision.kind),
                "fieldChanges": fieldChanges, "bodyUnchanged": old.bodyMarkdown == new.bodyMarkdown,
                "lines": lines.map { ["kind": $0.kind.rawValue, "marker": $0.kind.marker, "text": $0.text] },
                "canRestore": true, "currentVersion": current.summary.version,
            ])
    }

    private func restore(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let articleID = try Self.id(context)
        guard let revisionID = context.parameters.get("revision").flatMap(Int64.init),
              let revision = try await store.revision(id: revisionID), revision.articleID == articleID
        else { throw HTTPError(.notFound) }
        do {
            _ = try await newsroom.desk.restore(revision, basedOn: Int(context.form?["version"] ?? "") ?? 0, by: user)
        } catch let conflict as EditConflict {
            throw HTTPError(.conflict, message: conflict.message(timeZone: timeZone))
        }
        return AdminPages.redirect("/admin/articles/\(articleID)/", notice: "restored")
    }

    private static func kindLabel(_ kind: Revision.Kind) -> String {
        switch kind {
        case .save: "Saved"
        case .conflict: "Kept from a conflicting save"
        case .restore: "Restored from an earlier version"
        case .import: "Imported"
        }
    }

    // MARK: Media

    private func mediaList(_ request: Request, _ context: Context, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try Self.user(context)
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        let search = query["q"].map { String($0.prefix(200)) }
        let (items, total) = try await store.mediaItems(search: search, limit: 120)
        return AdminPages.render(newsroom, "media", title: "Media library", context: context, request: request, status: status, error: error, values: [
            "q": search ?? "", "total": total, "single": total == 1,
            "maxMB": newsroom.site.configuration.imageLimits.maxBytes / 1_048_576,
            "items": items.map { item -> [String: Any] in
                ["id": item.id, "thumbnail": ImageSigner.presetURL(path: item.path, width: 320), "alt": item.alt, "name": item.originalName,
                 "width": item.width, "height": item.height, "thumbHeight": max(1, 320 * item.height / max(1, item.width)),
                 "size": MediaLibrary.megabytes(item.bytes)]
            },
        ])
    }

    private func upload(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        let form = context.form ?? FormData()
        guard let file = form.files["file"] else {
            return try await mediaList(request, context, error: "Choose an image file to upload (Image file).", status: .unprocessableContent)
        }
        do {
            let item = try await newsroom.media.upload(
                file, alt: form["alt"], caption: form["caption"], credit: form["credit"], by: user)
            return AdminPages.redirect("/admin/media/\(item.id)/", notice: "uploaded")
        } catch let error as MastheadError {
            return try await mediaList(request, context, error: AdminPages.sentence(error), status: AdminPages.status(for: error))
        }
    }

    private func mediaItem(_ request: Request, _ context: Context) async throws -> Response {
        let user = try Self.user(context)
        guard let item = try await store.media(id: try Self.id(context)) else { throw HTTPError(.notFound) }
        return AdminPages.render(newsroom, "media-item", title: item.originalName, context: context, request: request, values: [
            "item": item, "thumbnail": ImageSigner.presetURL(path: item.path, width: 320), "url": "/media/" + item.path,
            "size": MediaLibrary.megabytes(item.bytes), "uploaded": AdminPages.date(item.createdAt, timeZone), "canDelete": user.role >= .editor,
        ])
    }

    private func saveMedia(_ request: Request, _ context: Context) async throws -> Response {
        try Self.user(context, atLeast: .author)
        let form = context.form ?? FormData()
        let mediaID = try Self.id(context)
        try await handling(context) { try await store.updateMedia(id: mediaID, alt: form["alt"], caption: form["caption"], credit: form["credit"]) }
        return AdminPages.redirect("/admin/media/\(mediaID)/", notice: "media-saved")
    }

    private func deleteMedia(_ request: Request, _ context: Context) async throws -> Response {
        try Self.user(context, atLeast: .editor)
        try await handling(context) { try await newsroom.media.delete(id: try Self.id(context)) }
        return AdminPages.redirect("/admin/media/", notice: "media-deleted")
    }

    // MARK: Helpers

    /// The signed-in user, when their role is `role` or above; 403 otherwise.
    @discardableResult
    static func user(_ context: Context, atLeast role: Role = .contributor) throws -> User {
        guard let user = context.session?.user else { throw HTTPError(.forbidden, message: "Sign in first.") }
        guard user.role >= role else { throw HTTPError(.forbidden, message: "This needs the \(role.label.lowercased()) role or above.") }
        return user
    }

    /// The numeric route parameter `name`; 404 when it is not a number.
    static func id(_ context: Context, _ name: String = "id") throws -> Int64 {
        guard let id = context.parameters.get(name).flatMap(Int64.init) else { throw HTTPError(.notFound) }
        return id
    }

    /// Runs a change; a refusal becomes a page that says why (with the right status).
    private func handling(_ context: Context, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as MastheadError {
            throw HTTPError(AdminPages.status(for: error), message: AdminPages.sentence(error))
        }
    }
}

/// The editor's form, read into an article's content (and what the form said about its image).
struct EditorForm {
    var content: ArticleContent
    var version: Int?
    var mediaChoice = "keep"
    var imageAlt = ""
    var imageCaption = ""
    var imageCredit = ""

    init(content: ArticleContent) {
        self.content = content
    }

    init(form: FormData, store: Store, currentImage: FeaturedImage?) async throws {
        let sectionID = Int64(form["section"]) ?? 0
        content = ArticleContent(
            title: form["title"], summary: form["summary"], bodyMarkdown: form.raw("body").replacingOccurrences(of: "\r\n", with: "\n"),
            slug: form["slug"], sectionID: sectionID,
            tagNames: form["tags"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            authorIDs: form.all("authors").compactMap(Int64.init), image: nil, disclaimer: form["disclaimer"] == "on",
            seoTitle: form["seo_title"], seoDescription: form["seo_description"])
        version = Int(form["version"])
        mediaChoice = form["image_media"]
        imageAlt = form["image_alt"]
        imageCaption = form["image_caption"]
        imageCredit = form["image_credit"]
        switch mediaChoice {
        case "none":
            content.image = nil
        case "keep":
            // The current image stays, with the words now in the form.
            content.image = currentImage
        default:
            if let id = Int64(mediaChoice), let item = try await store.media(id: id) {
                content.image = item.featuredImage
                if imageAlt.isEmpty { imageAlt = item.alt }
                if imageCaption.isEmpty { imageCaption = item.caption }
                if imageCredit.isEmpty { imageCredit = item.credit }
            }
        }
        if content.image != nil {
            content.image?.alt = imageAlt
            content.image?.caption = imageCaption
            content.image?.credit = imageCredit
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
