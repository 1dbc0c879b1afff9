import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MastheadCore
import MastheadForms
import MastheadImaging
import MastheadRendering
import MastheadStorage

/// Everything the newsroom (the admin pages and the Admin API) works with.
public struct Newsroom: Sendable {
    let site: Site
    let accounts: Accounts
    let templates: Theme
    let desk: ArticleDesk
    let media: MediaLibrary

    /// The templates the newsroom's folder must provide.
    static let templateNames = [
        "layout", "login", "set-password", "message", "articles", "editor", "revisions", "revision", "confirm", "media",
        "media-item", "taxonomy", "authors", "author", "users", "account", "settings", "webhooks", "audience", "consent-log", "tips", "tip",
    ]

    public init(site: Site) {
        self.site = site
        accounts = Accounts(store: site.store, policy: site.configuration.signIn, keys: site.keys, logger: site.logger)
        templates = site.adminTemplates
        media = MediaLibrary(store: site.store, mediaDirectory: site.configuration.mediaDirectory, limits: site.configuration.imageLimits)
        desk = ArticleDesk(store: site.store, trustsHTML: site.configuration.trustsHTML, media: media, webhooks: site.webhooks)
    }

    var store: Store { site.store }
    var timeZone: TimeZone { site.settings.current.timeZone }
    /// Cookies are Secure when the site is served over HTTPS.
    var secureCookies: Bool { site.configuration.site.baseURL.hasPrefix("https://") }

    /// The session cookie's name. Over HTTPS it carries the `__Host-` prefix, so browsers accept it
    /// only from this exact host, over HTTPS, for the whole site: no subdomain or plain-HTTP page
    /// can plant or overwrite it.
    var sessionCookieName: String { secureCookies ? "__Host-masthead_session" : "masthead_session" }
    /// The sign-in form's cookie (its CSRF token before anyone is signed in), prefixed likewise.
    var signInCookieName: String { secureCookies ? "__Host-masthead_signin" : "masthead_signin" }

    /// The sign-in form's token: the one in the browser's cookie when it is one this site made,
    /// else a new one (a cookie's value is never echoed back as it was sent).
    func signInToken(_ request: Request) -> String {
        if let sent = request.cookies[signInCookieName]?.value, SecretToken.isWellFormed(sent) { return sent }
        return SecretToken.make()
    }
}

/// Saving, publishing and deleting articles, with the role checks, for the editor and the API alike.
struct ArticleDesk: Sendable {
    let store: Store
    /// The site's `trust_html`: whether editors' raw HTML is published as written.
    let trustsHTML: Bool
    let media: MediaLibrary
    let webhooks: WebhookNotifier

    /// How `user`'s Markdown is turned into the stored HTML. Raw HTML is trusted (when the site
    /// trusts any) only from editors and above, like WordPress's `unfiltered_html`; what
    /// contributors and authors write is sanitised: it can format, never act.
    func markdown(for user: User) -> MarkdownRenderer {
        MarkdownRenderer(rawHTML: !trustsHTML ? .escaped : user.role >= .editor ? .trusted : .sanitized)
    }

    /// How previews inside the newsroom render a body, whoever wrote it: never with live form
    /// controls or scripts, since the page around them holds forms with the reader's CSRF token.
    var previewMarkdown: MarkdownRenderer {
        MarkdownRenderer(rawHTML: trustsHTML ? .sanitized : .escaped)
    }

    /// Saves the article's text (creating it when `id` is nil), then applies `action`.
    /// Permissions and the action's time are checked before anything is written.
    func save(id: Int64?, content: ArticleContent, basedOn version: Int?, action: WorkflowAction?, by user: User, now: Date = .now) async throws -> ArticleSummary {
        var content = content
        if let id {
            guard let existing = try await store.articleSummary(id: id) else { throw MastheadError(.notFound, "there is no article \(id)") }
            try Self.require(user.canEdit(existing), "you may not edit “\(existing.title)”")
            if let action { try check(action, on: existing, by: user, now: now) }
        } else {
            if content.authorIDs.isEmpty, let own = user.authorID { content.authorIDs = [own] }
            if let action {
                let draft = ArticleSummary(
                    id: 0, slug: "", title: content.title, status: .draft, section: Section(id: 0, slug: "", name: ""), authorNames: [],
                    createdBy: user.id, publishedAt: now, modifiedAt: now, modifiedByName: nil, version: 0)
                try check(action, on: draft, by: user, now: now)
            }
        }
        let html = try await store.bodyHTML(markdown: content.bodyMarkdown, renderer: markdown(for: user))
        var saved = try await store.saveArticle(id: id, content: content, bodyHTML: html, basedOn: version, by: user, now: now)
        if let action { saved = try await store.applyWorkflow(action, articleID: saved.id, by: user, now: now) }
        // The events were recorded with the changes; they are announced now rather than at the next tick.
        await webhooks.announceRecordedEvents()
        return saved
    }

    /// Applies a workflow step alone.
    func apply(_ action: WorkflowAction, to id: Int64, by user: User, now: Date = .now) async throws -> ArticleSummary {
        guard let existing = try await store.articleSummary(id: id) else { throw MastheadError(.notFound, "there is no article \(id)") }
        try Self.require(user.canEdit(existing), "you may not change “\(existing.title)”")
        try check(action, on: existing, by: user, now: now)
        let changed = try await store.applyWorkflow(action, articleID: id, by: user, now: now)
        await webhooks.announceRecordedEvents()
        return changed
    }

    func delete(_ id: Int64, by user: User) async throws {
        guard let existing = try await store.articleSummary(id: id) else { throw MastheadError(.notFound, "there is no article \(id)") }
        try Self.require(user.canDelete(existing), "you may not delete “\(existing.title)”")
        let gone = existing.status == .published ? try await store.article(slug: existing.slug) : nil
        try await store.deleteArticle(id: id)
        if let gone { await webhooks.announce(.deleted, article: gone) }
    }

    func restore(_ revision: Revision, basedOn version: Int, by user: User) async throws -> ArticleSummary {
        guard let existing = try await store.articleSummary(id: revision.articleID) else { throw MastheadError(.notFound, "the article is gone") }
        try Self.require(user.canEdit(existing), "you may not edit “\(existing.title)”")
        let html = try await store.bodyHTML(markdown: revision.content.bodyMarkdown, renderer: markdown(for: user))
        let restored = try await store.saveArticle(
            id: revision.articleID, content: revision.content, bodyHTML: html, basedOn: version, by: user, revisionKind: .restore)
        await webhooks.announceRecordedEvents()
        return restored
    }

    func addCorrection(to id: Int64, kind: Correction.Kind, text: String, by user: User) async throws -> Correction {
        guard let existing = try await store.articleSummary(id: id) else { throw MastheadError(.notFound, "there is no article \(id)") }
        try Self.require(user.role >= .editor, "only editors append corrections")
        guard existing.status == .published else {
            throw MastheadError(.invalidInput, "corrections are for published articles; edit a draft directly", location: .init(field: "text"))
        }
        let correction = try await store.addCorrection(articleID: id, kind: kind, text: text)
        await webhooks.announceRecordedEvents()
        return correction
    }

    private func check(_ action: WorkflowAction, on article: ArticleSummary, by user: User, now: Date) throws {
        switch action {
        case .draft, .submitForReview:
            return
        case .publish, .unpublish:
            try Self.require(user.canPublish(article), user.role == .contributor
                ? "contributors cannot publish: send the article for review and an editor will publish it"
                : "you may publish only your own articles")
        case .schedule(let time):
            try Self.require(user.canPublish(article), user.role == .contributor
                ? "contributors cannot schedule: send the article for review and an editor will schedule it"
                : "you may schedule only your own articles")
            guard time > now else {
                throw MastheadError(.invalidInput, "the publication time has already passed; choose a later time or publish now", location: .init(field: "publish_at"))
            }
        }
    }

    static func require(_ allowed: Bool, _ message: @autoclosure () -> String) throws {
        guard allowed else { throw MastheadError(.forbidden, message()) }
    }
}

/// Guards `/admin/`: finds the signed-in session, sends others to the sign-in page, reads every
/// posted form once and refuses it (403, nothing changed) unless it carries the session's CSRF
/// token — or, before sign-in, the token of the sign-in cookie. Admin pages are never cached and
/// may run only the newsroom's own script.
struct NewsroomMiddleware: RouterMiddleware {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom

    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; style-src-attr 'unsafe-inline'; script-src 'self'; "
        + "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/admin" || path.hasPrefix("/admin/"), !path.hasPrefix("/admin/assets/") else {
            return try await next(request, context)
        }
        var context = context
        var response: Response
        do {
            response = try await guarded(request, context: &context, next: next)
        } catch let error as HTTPError where error.status != .notFound || context.session != nil {
            response = AdminPages.messagePage(
                newsroom, context: context, status: error.status, title: error.status.reasonPhrase,
                message: error.body ?? Self.explanation(error.status))
        } catch let error as MastheadError where error.isRefusal {
            // Bad input no handler caught itself is still the sender's mistake, said as such.
            let status = AdminPages.status(for: error)
            response = AdminPages.messagePage(
                newsroom, context: context, status: status, title: status.reasonPhrase, message: AdminPages.sentence(error) + " Nothing was changed.")
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }

    private func guarded(_ request: Request, context: inout Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if let token = request.cookies[newsroom.sessionCookieName]?.value {
            context.session = try await newsroom.store.session(
                token: token, lifetime: newsroom.site.configuration.signIn.sessionLifetime,
                maxAge: newsroom.site.configuration.signIn.sessionMaxAge)
        }
        let isOpen = path == "/admin/login/" || path.hasPrefix("/admin/set-password/")
        var form: FormData?
        if ![.get, .head].contains(request.method) {
            // Who is asking is settled before a byte of the body is read: without a session only
            // the sign-in forms are open, and only to a browser holding their cookie.
            if context.session == nil {
                guard isOpen else { throw HTTPError(.forbidden, message: "Your session has ended. Sign in again; nothing was changed.") }
                guard request.cookies[newsroom.signInCookieName] != nil else { throw Self.refusedToken(context, path: path, signedIn: false) }
            }
            let read = try await FormData.read(request, limits: formLimits(path: path, signedIn: context.session != nil))
            let sent = read.has("csrf") ? read.raw("csrf") : (request.headers[HTTPField.Name("X-CSRF-Token")!] ?? "")
            let expected = isOpen && context.session == nil ? request.cookies[newsroom.signInCookieName]?.value : context.session?.csrfToken
            guard let expected, !sent.isEmpty, Self.constantTimeEqual(sent, expected) else {
                read.removeSpooledFiles()
                throw Self.refusedToken(context, path: path, signedIn: context.session != nil || isOpen)
            }
            context.form = read
            form = read
        }
        // Uploads the handler did not keep are removed when the request ends, however it ends.
        defer { form?.removeSpooledFiles() }
        guard context.session != nil || isOpen else {
            var next = URLComponents()
            next.path = "/admin/login/"
            next.queryItems = [URLQueryItem(name: "next", value: path)]
            return Response(status: .seeOther, headers: [.location: next.string ?? "/admin/login/"])
        }
        return try await next(request, context)
    }

    private static func refusedToken(_ context: Context, path: String, signedIn: Bool) -> HTTPError {
        context.logger.notice("newsroom form refused: missing or wrong CSRF token", metadata: ["masthead.path": "\(LoggedPath.redacted(path))"])
        return HTTPError(.forbidden, message: signedIn
            ? "This form's security token is missing or out of date, so nothing was changed. Reload the page and try again."
            : "Your session has ended. Sign in again; nothing was changed.")
    }

    /// How much of a posted form is read: sign-in forms are small; signed-in editors may send
    /// long articles; only the forms that carry an image (the media library's upload and the
    /// editor's featured image) may be as large as an image, and their files go straight to disk.
    private func formLimits(path: String, signedIn: Bool) -> FormLimits {
        guard signedIn else { return FormLimits(bodyBytes: 16 * 1024) }
        guard Self.isUploadForm(path) else { return FormLimits(bodyBytes: 4 * 1_048_576) }
        return FormLimits(
            bodyBytes: newsroom.site.configuration.imageLimits.maxBytes + 4 * 1_048_576,
            spoolDirectory: newsroom.site.configuration.mediaDirectory + "/.incoming")
    }

    /// `/admin/media/`, `/admin/articles/new/` and `/admin/articles/<id>/`.
    static func isUploadForm(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        guard parts.count >= 2, parts[0] == "admin" else { return false }
        if parts.count == 2 { return parts[1] == "media" }
        return parts.count == 3 && parts[1] == "articles" && (parts[2] == "new" || Int64(parts[2]) != nil)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    static func explanation(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 403: "You may not do this with your role."
        case 404: "There is nothing here."
        default: "The request could not be handled."
        }
    }
}
