import Foundation
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadRendering
import MastheadStorage

/// The newsroom's housekeeping pages: sections and tags, author profiles (editors), accounts and
/// site settings with Content API keys (admins), and each person's own password and API keys.
struct AdminManagement: Sendable {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom

    var store: Store { newsroom.store }
    var timeZone: TimeZone { newsroom.timeZone }

    /// How long links for new accounts and password resets stay valid.
    static let inviteLifetime: TimeInterval = 7 * 86_400
    static let resetLifetime: TimeInterval = 86_400

    func addRoutes(to router: Router<Context>) {
        router.get("/admin/taxonomy") { request, context in try await taxonomy(request, context) }
        router.post("/admin/sections") { _, context in
            try await change(context, .editor, notice: "section-saved", to: "/admin/taxonomy/") { form in _ = try await store.addSection(name: form["name"]) }
        }
        router.post("/admin/sections/:id") { _, context in
            try await change(context, .editor, notice: "section-saved", to: "/admin/taxonomy/") { form in try await store.renameSection(id: try AdminController.id(context), name: form["name"]) }
        }
        router.post("/admin/sections/:id/delete") { _, context in
            try await change(context, .editor, notice: "section-deleted", to: "/admin/taxonomy/") { _ in try await store.deleteSection(id: try AdminController.id(context)) }
        }
        router.post("/admin/tags/:id") { _, context in
            try await change(context, .editor, notice: "tag-saved", to: "/admin/taxonomy/") { form in try await store.renameTag(id: try AdminController.id(context), name: form["name"]) }
        }
        router.post("/admin/tags/:id/delete") { _, context in
            try await change(context, .editor, notice: "tag-deleted", to: "/admin/taxonomy/") { _ in try await store.deleteTag(id: try AdminController.id(context)) }
        }

        router.get("/admin/authors") { request, context in try await authors(request, context) }
        router.get("/admin/authors/new") { request, context in try await author(nil, request, context) }
        router.post("/admin/authors/new") { request, context in try await saveAuthor(nil, request, context) }
        router.get("/admin/authors/:id") { request, context in try await author(try AdminController.id(context), request, context) }
        router.post("/admin/authors/:id") { request, context in try await saveAuthor(try AdminController.id(context), request, context) }
        router.post("/admin/authors/:id/delete") { _, context in
            try await change(context, .editor, notice: "author-deleted", to: "/admin/authors/") { _ in try await store.deleteAuthor(id: try AdminController.id(context)) }
        }

        router.get("/admin/users") { request, context in try await users(request, context) }
        router.post("/admin/users") { request, context in try await addUser(request, context) }
        router.post("/admin/users/:id") { _, context in try await updateUser(context) }
        router.post("/admin/users/:id/reset") { request, context in try await resetLink(request, context) }
        router.post("/admin/users/:id/keys/revoke") { _, context in
            let me = try AdminController.user(context, atLeast: .admin)
            guard let other = try await store.user(id: try AdminController.id(context)) else { throw HTTPError(.notFound) }
            guard me.canManage(other) else { throw HTTPError(.forbidden, message: "You may not change this account.") }
            try await store.revokeAPIKeys(userID: other.id)
            return AdminPages.redirect("/admin/users/", notice: "keys-revoked")
        }

        router.get("/admin/account") { request, context in try await account(request, context) }
        router.post("/admin/account/password") { request, context in try await changePassword(request, context) }
        router.post("/admin/account/keys") { request, context in try await createKey(request, context) }
        router.post("/admin/account/keys/:id/revoke") { _, context in
            let user = try AdminController.user(context)
            guard try await store.revokeAPIKey(id: try AdminController.id(context), userID: user.id) else { throw HTTPError(.notFound) }
            return AdminPages.redirect("/admin/account/", notice: "key-revoked")
        }

        router.get("/admin/webhooks") { request, context in try await webhooks(request, context) }
        router.post("/admin/webhooks") { request, context in try await addWebhook(request, context) }
        router.post("/admin/webhooks/:id/delete") { _, context in
            try await change(context, .admin, notice: "webhook-removed", to: "/admin/webhooks/") { _ in try await store.deleteWebhook(id: try AdminController.id(context)) }
        }
        router.post("/admin/webhooks/deliveries/:id/retry") { _, context in
            try await change(context, .admin, notice: "retrying", to: "/admin/webhooks/") { _ in try await store.retryDelivery(id: try AdminController.id(context)) }
        }

        router.get("/admin/settings") { request, context in try await settings(request, context) }
        router.post("/admin/settings") { request, context in try await saveSettings(request, context) }
        router.post("/admin/settings/content-keys") { request, context in try await createContentKey(request, context) }
        router.post("/admin/settings/content-keys/:id/revoke") { _, context in
            try await change(context, .admin, notice: "key-revoked", to: "/admin/settings/") { _ in try await store.revokeContentKey(id: try AdminController.id(context)) }
        }
    }

    // MARK: Sections and tags

    private func taxonomy(_ request: Request, _ context: Context, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let sections = try await store.sections()
        let tags = try await store.allTags()
        return AdminPages.render(newsroom, "taxonomy", title: "Sections and tags", context: context, request: request, status: status, error: error, values: [
            "sections": sections.map { ["id": $0.id, "name": $0.name, "path": $0.path, "csrf": context.session?.csrfToken ?? ""] },
            "tags": tags.map { ["id": $0.0.id, "name": $0.0.name, "path": $0.0.path, "count": $0.1, "csrf": context.session?.csrfToken ?? ""] },
        ])
    }

    // MARK: Authors

    private func authors(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let authors = try await store.allAuthors()
        return AdminPages.render(newsroom, "authors", title: "Authors", context: context, request: request, values: [
            "authors": authors.map { ["id": $0.0.id, "name": $0.0.name, "title": $0.0.title, "count": $0.1] },
        ])
    }

    private func author(_ authorID: Int64?, _ request: Request, _ context: Context, error: String? = nil, form: FormData? = nil) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        var values: [String: Any] = ["action": authorID.map { "/admin/authors/\($0)/" } ?? "/admin/authors/new/"]
        if let authorID {
            guard let author = try await store.allAuthors().first(where: { $0.0.id == authorID })?.0 else { throw HTTPError(.notFound) }
            values["id"] = authorID
            values["name"] = author.name
            values["authorTitle"] = author.title
            values["bio"] = try await store.authorBioMarkdown(id: authorID)
        }
        if let form {
            values["name"] = form["name"]
            values["authorTitle"] = form["title"]
            values["bio"] = form.raw("bio")
        }
        let name = values["name"] as? String
        return AdminPages.render(
            newsroom, "author", title: name.map { "Author: \($0)" } ?? "New author profile", context: context, request: request,
            status: error == nil ? .ok : .unprocessableContent, error: error, values: values)
    }

    private func saveAuthor(_ authorID: Int64?, _ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let form = context.form ?? FormData()
        let bio = form.raw("bio").replacingOccurrences(of: "\r\n", with: "\n")
        do {
            let id = try await store.saveAuthorProfile(
                id: authorID, name: form["name"], title: form["title"], bioMarkdown: bio, bioHTML: newsroom.desk.markdown(for: try AdminController.user(context)).html(from: bio))
            return AdminPages.redirect("/admin/authors/\(id)/", notice: "author-saved")
        } catch let error as MastheadError {
            return try await author(authorID, request, context, error: AdminPages.sentence(error), form: form)
        }
    }

    // MARK: Accounts

    private func users(_ request: Request, _ context: Context, invite: (email: String, link: String)? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let me = try AdminController.user(context, atLeast: .admin)
        let users = try await store.users()
        let keyCounts = try await store.apiKeyCounts()
        var values: [String: Any] = [
            "users": users.map { user -> [String: Any] in
                [
                    "id": user.id, "name": user.name, "email": user.email, "roleLabel": user.role.label, "disabled": user.isDisabled,
                    "keyCount": keyCounts[user.id] ?? 0,
                    "hasPassword": user.hasPassword, "canManage": me.canManage(user), "csrf": context.session?.csrfToken ?? "",
                    "roles": AdminPages.options(me.role.assignableRoles, value: \.rawValue, label: \.label) { $0 == user.role },
                ]
            },
            "newRoles": AdminPages.options(me.role.assignableRoles, value: \.rawValue, label: \.label) { $0 == .author },
        ]
        if let invite { values["inviteLink"] = ["email": invite.email, "link": invite.link, "days": 7] }
        return AdminPages.render(newsroom, "users", title: "Accounts", context: context, request: request, status: status, error: error, values: values)
    }

    private func addUser(_ request: Request, _ context: Context) async throws -> Response {
        let me = try AdminController.user(context, atLeast: .admin)
        let form = context.form ?? FormData()
        do {
            guard let role = Role(rawValue: form["role"]), me.role.assignableRoles.contains(role) else {
                throw MastheadError(.invalidInput, "choose one of the roles offered", location: .init(field: "role"))
            }
            let user = try await store.addUser(email: form["email"], name: form["name"], role: role, passwordHash: nil)
            let token = try await store.createUserToken(userID: user.id, purpose: "invite", lifetime: Self.inviteLifetime)
            let link = newsroom.site.settings.current.absoluteURL("/admin/set-password/\(token)/")
            return try await users(request, context, invite: (user.email, link))
        } catch let error as MastheadError {
            return try await users(request, context, error: AdminPages.sentence(error), status: AdminPages.status(for: error))
        }
    }

    private func updateUser(_ context: Context) async throws -> Response {
        let me = try AdminController.user(context, atLeast: .admin)
        guard let other = try await store.user(id: try AdminController.id(context)) else { throw HTTPError(.notFound) }
        guard me.canManage(other) else { throw HTTPError(.forbidden, message: "You may not change this account.") }
        return try await change(context, .admin, notice: "user-saved", to: "/admin/users/") { form in
            guard let role = Role(rawValue: form["role"]), me.role.assignableRoles.contains(role) else {
                throw MastheadError(.invalidInput, "choose one of the roles offered", location: .init(field: "role"))
            }
            try await store.updateUser(id: other.id, role: role, disabled: form["state"] == "disabled")
        }
    }

    private func resetLink(_ request: Request, _ context: Context) async throws -> Response {
        let me = try AdminController.user(context, atLeast: .admin)
        guard let other = try await store.user(id: try AdminController.id(context)) else { throw HTTPError(.notFound) }
        guard me.canManage(other) else { throw HTTPError(.forbidden, message: "You may not reset this account's password.") }
        // A reset is what an admin does when an account may be in other hands: its sessions and
        // API keys end now, not when the new password is chosen.
        let token = try await store.resetAccess(userID: other.id, lifetime: Self.resetLifetime)
        return try await users(request, context, invite: (other.email, newsroom.site.settings.current.absoluteURL("/admin/set-password/\(token)/")))
    }

    // MARK: Own account

    private func account(_ request: Request, _ context: Context, newKey: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let me = try AdminController.user(context)
        let keys = try await store.apiKeys(userID: me.id)
        return AdminPages.render(newsroom, "account", title: "Your account", context: context, request: request, status: status, error: error, values: [
            "email": me.email, "newKey": newKey as Any, "hasKeys": !keys.isEmpty,
            "keys": keys.map { key -> [String: Any] in
                ["id": key.id, "name": key.name, "prefix": key.prefix, "created": AdminPages.date(key.createdAt, timeZone),
                 "lastUsed": key.lastUsedAt.map { AdminPages.date($0, timeZone) } ?? "never", "csrf": context.session?.csrfToken ?? ""]
            },
        ])
    }

    private func changePassword(_ request: Request, _ context: Context) async throws -> Response {
        let me = try AdminController.user(context)
        let form = context.form ?? FormData()
        guard let stored = try await store.credentials(email: me.email)?.passwordHash,
              try await newsroom.accounts.matches(form.raw("current"), hash: stored)
        else { return try await account(request, context, error: "The current password is not right.", status: .unprocessableContent) }
        guard form.raw("password") == form.raw("confirm") else {
            return try await account(request, context, error: "The two new passwords differ.", status: .unprocessableContent)
        }
        do {
            try await newsroom.accounts.setPassword(form.raw("password"), for: me.id)
        } catch let error as MastheadError {
            return try await account(request, context, error: error.message, status: .unprocessableContent)
        }
        // Changing the password ends every session, this one too: sign in again with the new one.
        return AdminPages.redirect("/admin/login/", notice: "password")
    }

    private func createKey(_ request: Request, _ context: Context) async throws -> Response {
        let me = try AdminController.user(context)
        // A key acts as its owner without a session: the password is asked for again, so a
        // borrowed or stolen session alone cannot mint one.
        guard let stored = try await store.credentials(email: me.email)?.passwordHash,
              try await newsroom.accounts.matches(context.form?.raw("password") ?? "", hash: stored)
        else {
            return try await account(request, context, error: "Your password is not right, so no key was made (Your password).", status: .unprocessableContent)
        }
        do {
            let (key, _) = try await store.createAPIKey(userID: me.id, name: context.form?["name"] ?? "")
            return try await account(request, context, newKey: key)
        } catch let error as MastheadError {
            return try await account(request, context, error: AdminPages.sentence(error), status: .unprocessableContent)
        }
    }

    // MARK: Settings

    private func settings(_ request: Request, _ context: Context, newKey: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let current = newsroom.site.settings.current
        let keys = try await store.contentKeys()
        return AdminPages.render(newsroom, "settings", title: "Site settings", context: context, request: request, status: status, error: error, values: [
            "title": current.title, "tagline": current.tagline, "tipPrompt": current.tipPrompt, "disclaimer": current.disclaimer,
            "newContentKey": newKey as Any, "hasContentKeys": !keys.isEmpty,
            "contentKeys": keys.map { ["id": $0.id, "name": $0.name, "created": AdminPages.date($0.createdAt, timeZone), "csrf": context.session?.csrfToken ?? ""] as [String: Any] },
        ])
    }

    private func saveSettings(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let form = context.form ?? FormData()
        var values: [String: String] = [:]
        for name in SiteSettings.editableNames { values[name] = form[name] }
        guard !(values["title"] ?? "").isEmpty else {
            return try await settings(request, context, error: "The site needs a title (Site title).", status: .unprocessableContent)
        }
        try await store.saveSiteSettings(values)
        newsroom.site.settings.update(overrides: try await store.siteSettingOverrides())
        newsroom.site.cache.purge()
        return AdminPages.redirect("/admin/settings/", notice: "settings")
    }

    private func createContentKey(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        do {
            let key = try await store.createContentKey(name: context.form?["name"] ?? "")
            return try await settings(request, context, newKey: key)
        } catch let error as MastheadError {
            return try await settings(request, context, error: AdminPages.sentence(error), status: .unprocessableContent)
        }
    }

    // MARK: Webhooks

    private func webhooks(
        _ request: Request, _ context: Context, newSecret: (url: String, secret: String)? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let hooks = try await store.webhooks()
        let deliveries = try await store.recentDeliveries(limit: 100)
        let csrf = context.session?.csrfToken ?? ""
        var values: [String: Any] = [
            "hasWebhooks": !hooks.isEmpty, "hasDeliveries": !deliveries.isEmpty,
            "webhooks": hooks.map { hook -> [String: Any] in
                ["id": hook.id, "url": hook.url, "events": hook.events.map(\.rawValue).joined(separator: ", "),
                 "created": AdminPages.date(hook.createdAt, timeZone), "csrf": csrf]
            },
            "events": ArticleEvent.allCases.map { ["value": $0.rawValue, "label": "Article " + $0.rawValue.dropFirst("article.".count)] },
            "deliveries": deliveries.map { delivery -> [String: Any] in
                let article = (try? JSONSerialization.jsonObject(with: Data(delivery.payload.utf8)) as? [String: Any])?["article"] as? [String: Any]
                var answer = delivery.lastStatus.map { "HTTP \($0)" } ?? ""
                if let error = delivery.lastError, delivery.state != .delivered { answer += (answer.isEmpty ? "" : ": ") + error }
                return [
                    "id": delivery.id, "created": AdminPages.date(delivery.createdAt, timeZone), "event": delivery.event,
                    "article": article?["title"] as? String ?? "", "url": delivery.url, "attempts": delivery.attempts, "answer": answer,
                    "stateLabel": ["pending": "Waiting", "delivered": "Delivered", "failed": "Failed"][delivery.state.rawValue] ?? "",
                    "nextAttempt": delivery.state == .pending && delivery.attempts > 0 ? AdminPages.date(delivery.nextAttemptAt, timeZone) : nil as String? as Any,
                    "canRetry": delivery.state == .failed, "csrf": csrf,
                ]
            },
        ]
        if let newSecret { values["newSecret"] = ["url": newSecret.url, "secret": newSecret.secret] }
        return AdminPages.render(newsroom, "webhooks", title: "Webhooks", context: context, request: request, status: status, error: error, values: values)
    }

    private func addWebhook(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let form = context.form ?? FormData()
        do {
            let (hook, secret) = try await store.addWebhook(url: form["url"], events: form.all("events").compactMap(ArticleEvent.init(rawValue:)))
            return try await webhooks(request, context, newSecret: (hook.url, secret))
        } catch let error as MastheadError {
            return try await webhooks(request, context, error: AdminPages.sentence(error), status: .unprocessableContent)
        }
    }

    // MARK: Helpers


    /// Runs a simple form change for `role` and above, then goes to `path` with a notice;
    /// a refusal becomes a page that says why.
    private func change(_ context: Context, _ role: Role, notice: String, to path: String, _ body: (FormData) async throws -> Void) async throws -> Response {
        try AdminController.user(context, atLeast: role)
        do {
            try await body(context.form ?? FormData())
        } catch let error as MastheadError {
            throw HTTPError(AdminPages.status(for: error), message: AdminPages.sentence(error))
        }
        return AdminPages.redirect(path, notice: notice)
    }

}
