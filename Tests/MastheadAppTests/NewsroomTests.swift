import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTesting
import NIOCore
import Testing

/// A person at the newsroom's pages: keeps cookies like a browser and finds each form's CSRF token.
struct NewsroomVisitor {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    var cookieHeader: HTTPFields {
        cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
    }

    mutating func get(_ uri: String) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: cookieHeader, body: nil)
        keepCookies(response)
        return response
    }

    mutating func post(_ uri: String, _ fields: [String: String], csrf: Bool = true, extra: [(String, String)] = []) async throws -> TestResponse {
        var fields = fields
        if csrf, fields["csrf"] == nil { fields["csrf"] = try await token() }
        let pairs = fields.map { ($0.key, $0.value) } + extra
        let body = pairs.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var headers = cookieHeader
        headers[.contentType] = "application/x-www-form-urlencoded"
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        keepCookies(response)
        return response
    }

    /// The CSRF token of the signed-in session (from any newsroom page) or of the sign-in form.
    mutating func token() async throws -> String {
        let page = try await get(cookies["masthead_session"] == nil ? "/admin/login/" : "/admin/account/")
        let html = String(buffer: page.body)
        guard let range = html.range(of: #"name="csrf" value=""#) else { throw MastheadError(.notFound, "no CSRF token on the page") }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    mutating func signIn(_ email: String, _ password: String) async throws -> TestResponse {
        _ = try await get("/admin/login/")
        return try await post("/admin/login/", ["email": email, "password": password])
    }

    private mutating func keepCookies(_ response: TestResponse) {
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

@Suite struct NewsroomTests {
    static let password = "a long enough passphrase"

    /// A site with one section, one article by the owner and accounts for every role.
    func seed(_ test: TestSite) async throws -> (accounts: [Role: User], article: ArticleSummary) {
        let accountsService = Accounts(store: test.site.store, policy: test.site.configuration.signIn, keys: test.site.keys, logger: test.site.logger)
        let hash = try await accountsService.hash(password: Self.password)
        var users: [Role: User] = [:]
        for role in Role.allCases.reversed() {
            users[role] = try await test.site.store.addUser(email: "\(role.rawValue)@example.org", name: "\(role.label) Person", role: role, passwordHash: hash)
        }
        let section = try await test.site.store.addSection(name: "World")
        let article = try await test.site.store.saveArticle(
            id: nil, content: ArticleContent(title: "Harbour strike ends", bodyMarkdown: "First line.\n\nSecond line.", sectionID: section.id),
            bodyHTML: "<p>First line.</p><p>Second line.</p>", basedOn: nil, by: users[.owner]!)
        return (users, article)
    }

    @Test func pagesNeedASignedInSession() async throws {
        try await withTestSite { test in
            _ = try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                let list = try await visitor.get("/admin/articles/")
                #expect(list.status == .seeOther)
                #expect(list.headers[.location] == "/admin/login/?next=/admin/articles/")
                let login = try await visitor.get("/admin/login/")
                #expect(login.status == .ok)
                #expect(login.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(login.headers[.cacheControl] == "no-store")
                let wrong = try await visitor.post("/admin/login/", ["email": "owner@example.org", "password": "not the password"])
                #expect(wrong.status == .unauthorized)
                #expect(String(buffer: wrong.body).contains("The email address or password is not right."))
                let right = try await visitor.post("/admin/login/", ["email": "OWNER@example.org ", "password": Self.password, "next": "/admin/media/"])
                #expect(right.status == .seeOther)
                #expect(right.headers[.location] == "/admin/media/")
                let cookie = right.headers[values: .setCookie].first { $0.hasPrefix("masthead_session=") } ?? ""
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
                #expect(try await visitor.get("/admin/articles/").status == .ok)
                #expect(try await visitor.post("/admin/logout/", [:]).status == .seeOther)
                #expect(try await visitor.get("/admin/articles/").status == .seeOther)
            }
        }
    }

    @Test func signInFromAnotherSiteIsRefused() async throws {
        try await withTestSite { test in
            _ = try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                // No sign-in cookie and token from a page of ours: a cross-site form post.
                let forged = try await visitor.post("/admin/login/", ["email": "owner@example.org", "password": Self.password, "csrf": "forged"])
                #expect(forged.status == .forbidden)
                #expect(visitor.cookies["masthead_session"] == nil)
            }
        }
    }

    @Test func everyPageOpensForTheOwner() async throws {
        try await withTestSite { test in
            let (_, article) = try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                _ = try await visitor.signIn("owner@example.org", Self.password)
                let revision = try await test.site.store.revisions(articleID: article.id)[0]
                for path in [
                    "/admin/articles/", "/admin/articles/?status=draft&q=harbour", "/admin/articles/new/", "/admin/articles/\(article.id)/",
                    "/admin/articles/\(article.id)/revisions/", "/admin/articles/\(article.id)/revisions/\(revision.id)/",
                    "/admin/articles/\(article.id)/delete/", "/admin/media/", "/admin/taxonomy/", "/admin/authors/", "/admin/authors/new/",
                    "/admin/users/", "/admin/account/", "/admin/settings/", "/admin/webhooks/", "/admin/audience/", "/admin/consent/",
                ] {
                    let response = try await visitor.get(path)
                    #expect(response.status == .ok, "\(path)")
                    let html = String(buffer: response.body)
                    #expect(html.contains("<main id=\"main\""), "\(path)")
                    #expect(!html.contains("nil<") && !html.contains("Optional("), "\(path) shows a missing value as text")
                    #expect(!html.contains("[&quot;"), "\(path) shows a list or dictionary as text")
                }
                // The revision page names who saved it, not the signed-in account's menu.
                let revisionPage = String(buffer: try await visitor.get("/admin/articles/\(article.id)/revisions/\(revision.id)/").body)
                #expect(revisionPage.contains("Saved by \(revision.userName) on"))
                #expect(try await visitor.get("/admin/articles/99999/").status == .notFound)
            }
        }
    }

    @Test func aFormWithoutItsTokenChangesNothing() async throws {
        try await withTestSite { test in
            _ = try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                _ = try await visitor.signIn("admin@example.org", Self.password)
                let missing = try await visitor.post("/admin/settings/", ["title": "Hijacked Herald"], csrf: false)
                #expect(missing.status == .forbidden)
                #expect(String(buffer: missing.body).contains("nothing was changed"))
                let wrong = try await visitor.post("/admin/sections/", ["name": "Hijacked", "csrf": "0123456789"])
                #expect(wrong.status == .forbidden)
                #expect(try await test.site.store.siteSettingOverrides().isEmpty)
                #expect(try await test.site.store.sections().map(\.name) == ["World"])
                // With the token, the same change goes through and shows on the public site.
                let saved = try await visitor.post("/admin/settings/", ["title": "The Evening Ledger", "tagline": "", "tip_prompt": "", "disclaimer": ""])
                #expect(saved.status == .seeOther)
                #expect(String(buffer: try await visitor.get("/").body).contains("The Evening Ledger"))
            }
        }
    }

    @Test func repeatedWrongPasswordsLockTheAccount() async throws {
        try await withTestSite(configuring: { $0.signIn.accountLimit = 4 }) { test in
            _ = try await seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<4 {
                    statuses.append(try await visitor.post("/admin/login/", ["email": "editor@example.org", "password": "guess"]).status)
                }
                #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests])
                let right = try await visitor.post("/admin/login/", ["email": "editor@example.org", "password": Self.password])
                #expect(right.status == .tooManyRequests)
                #expect(String(buffer: right.body).contains("locked until"))
                #expect(visitor.cookies["masthead_session"] == nil)
                // Other accounts are unaffected; a password reset lifts the lock.
                #expect(try await visitor.post("/admin/login/", ["email": "author@example.org", "password": Self.password]).status == .seeOther)
                let editor = try #require(try await test.site.store.user(email: "editor@example.org"))
                try await Accounts(store: test.site.store, policy: test.site.configuration.signIn, keys: test.site.keys, logger: test.site.logger)
                    .setPassword("another long passphrase", for: editor.id)
                var fresh = NewsroomVisitor(client)
                #expect(try await fresh.signIn("editor@example.org", "another long passphrase").status == .seeOther)
            }
        }
    }

    @Test func contributorsCannotPublishByFormOrAPI() async throws {
        try await withTestSite { test in
            let (users, _) = try await seed(test)
            let section = try #require(try await test.site.store.sections().first)
            let own = try await test.site.store.saveArticle(
                id: nil, content: ArticleContent(title: "Contributor draft", sectionID: section.id), bodyHTML: "", basedOn: nil, by: users[.contributor]!)
            let (key, _) = try await test.site.store.createAPIKey(userID: users[.contributor]!.id, name: "Script")
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                _ = try await visitor.signIn("contributor@example.org", Self.password)
                let editor = String(buffer: try await visitor.get("/admin/articles/\(own.id)/").body)
                #expect(!editor.contains(#"value="publish""#))
                #expect(editor.contains(#"value="review""#))
                let form = try await visitor.post("/admin/articles/\(own.id)/", [
                    "title": "Contributor draft", "section": String(section.id), "version": "1", "action": "publish", "body": "Text",
                ])
                #expect(form.status == .forbidden)
                #expect(String(buffer: form.body).contains("Contributors cannot publish"))
                let api = try await client.execute(
                    uri: "/api/admin/articles/\(own.id)/publish", method: .post, headers: [.authorization: "Bearer \(key)"])
                #expect(api.status == .forbidden)
                #expect(String(buffer: api.body).contains("NoPermissionError"))
                #expect(try await test.site.store.articleSummary(id: own.id)?.status == .draft)
                // Sending for review is allowed.
                let review = try await visitor.post("/admin/articles/\(own.id)/", [
                    "title": "Contributor draft", "section": String(section.id), "version": "1", "action": "review", "body": "Text",
                ])
                #expect(review.status == .seeOther)
                #expect(try await test.site.store.articleSummary(id: own.id)?.status == .review)
                // Once in review, other people's articles stay out of reach.
                #expect(try await visitor.get("/admin/articles/1/").status == .forbidden)
            }
        }
    }

    @Test func aSaveOverANewerVersionIsRefusedAndKept() async throws {
        try await withTestSite { test in
            let (users, article) = try await seed(test)
            let store = test.site.store
            var content = try #require(try await store.editableArticle(id: article.id)).content
            content.bodyMarkdown = "Editor's version."
            _ = try await store.saveArticle(id: article.id, content: content, bodyHTML: "", basedOn: 1, by: users[.editor]!)
            content.bodyMarkdown = "Author's version, typed at the same time."
            do {
                _ = try await store.saveArticle(id: article.id, content: content, bodyHTML: "", basedOn: 1, by: users[.owner]!)
                Issue.record("a save over a newer version went through")
            } catch let conflict as EditConflict {
                #expect(conflict.changedBy == "Editor Person")
                #expect(conflict.currentVersion == 2)
                let keptID = try #require(conflict.keptRevision)
                let kept = try #require(try await store.revision(id: keptID))
                #expect(kept.kind == .conflict)
                #expect(kept.content.bodyMarkdown == "Author's version, typed at the same time.")
                #expect(conflict.message(timeZone: TimeZone(identifier: "UTC")!).contains("changed by Editor Person at"))
            }
            #expect(try await store.editableArticle(id: article.id)?.content.bodyMarkdown == "Editor's version.")
            let revisions = try await store.revisions(articleID: article.id)
            #expect(revisions.map(\.kind) == [.conflict, .save, .save])
            // Restoring the first revision brings its text back as a new version.
            let first = try #require(revisions.last)
            let restored = try await store.saveArticle(id: article.id, content: first.content, bodyHTML: "", basedOn: 2, by: users[.editor]!, revisionKind: .restore)
            #expect(restored.version == 3)
            #expect(try await store.editableArticle(id: article.id)?.content.bodyMarkdown == "First line.\n\nSecond line.")
        }
    }

    @Test func aPublishedStoryKeepsItsOldAddressWhenItsSlugChanges() async throws {
        try await withTestSite { test in
            let (users, article) = try await seed(test)
            let store = test.site.store
            try await store.applyWorkflow(.publish, articleID: article.id, by: users[.editor]!)
            var content = try #require(try await store.editableArticle(id: article.id)).content
            content.slug = "harbour-strike-is-over"
            _ = try await store.saveArticle(id: article.id, content: content, bodyHTML: "<p>x</p>", basedOn: 1, by: users[.editor]!)
            try await buildApplication(site: test.site).test(.router) { client in
                let old = try await client.execute(uri: "/world/harbour-strike-ends/", method: .get)
                #expect(old.status == .movedPermanently && old.headers[.location] == "/world/harbour-strike-is-over/")
                #expect(try await client.execute(uri: "/world/harbour-strike-is-over/", method: .get).status == .ok)
            }
        }
    }

    @Test func theEditorShowsTheConflictAndKeepsTheText() async throws {
        try await withTestSite { test in
            let (users, article) = try await seed(test)
            var content = try #require(try await test.site.store.editableArticle(id: article.id)).content
            content.bodyMarkdown = "Saved first by the editor."
            _ = try await test.site.store.saveArticle(id: article.id, content: content, bodyHTML: "", basedOn: 1, by: users[.editor]!)
            let sectionID = content.sectionID
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                _ = try await visitor.signIn("owner@example.org", Self.password)
                let response = try await visitor.post("/admin/articles/\(article.id)/", [
                    "title": "Harbour strike ends", "section": String(sectionID), "version": "1", "action": "save",
                    "body": "My paragraph that must not be lost.", "image_media": "none",
                ])
                #expect(response.status == .conflict)
                let html = String(buffer: response.body)
                #expect(html.contains("changed by Editor Person at"))
                #expect(html.contains("My paragraph that must not be lost."))
                #expect(html.contains(#"name="version" value="2""#))
            }
        }
    }

    @Test func scheduledArticlesPublishWhenDueEvenAfterARestart() async throws {
        try await withTestSite { test in
            let (users, article) = try await seed(test)
            let store = test.site.store
            let now = Date.now
            try await store.applyWorkflow(.schedule(now.addingTimeInterval(60)), articleID: article.id, by: users[.editor]!, now: now)
            #expect(try await store.publishDueArticles(now: now.addingTimeInterval(30)).isEmpty)
            #expect(try await store.publishedArticles(limit: 5, now: now.addingTimeInterval(30)).isEmpty)
            // The server was down at the time: the first check after it publishes the article.
            let published = try await store.publishDueArticles(now: now.addingTimeInterval(3600))
            #expect(published.map(\.id) == [article.id])
            #expect(try await store.articleSummary(id: article.id)?.status == .published)
            #expect(try await store.publishDueArticles(now: now.addingTimeInterval(3601)).isEmpty)
            await #expect(throws: MastheadError.self) {
                try await store.applyWorkflow(.schedule(now.addingTimeInterval(-5)), articleID: article.id, by: users[.editor]!, now: now)
            }
        }
    }

    @Test func theAdminAPIWritesWithAKeyAndChecksVersions() async throws {
        try await withTestSite { test in
            let (users, _) = try await seed(test)
            let (key, _) = try await test.site.store.createAPIKey(userID: users[.author]!.id, name: "Wire desk")
            let jpeg = try Data(contentsOf: URL(fileURLWithPath: try test.writeJPEG("upload.jpg", width: 400, height: 300)))
            try await buildApplication(site: test.site).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil, key: String? = key) async throws -> (HTTPResponse.Status, [String: Any]) {
                    var headers: HTTPFields = [:]
                    if let key { headers[.authorization] = "Bearer \(key)" }
                    if json != nil { headers[.contentType] = "application/json" }
                    let response = try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
                    let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
                    return (response.status, object)
                }
                #expect(try await call(.get, "/api/admin/articles/", key: nil).0 == .unauthorized)
                #expect(try await call(.get, "/api/admin/articles/", key: "mh_revoked").0 == .unauthorized)

                let upload = try await client.execute(
                    uri: "/api/admin/media/?filename=harbour.jpg&alt=Cranes", method: .post,
                    headers: [.authorization: "Bearer \(key)", .contentType: "image/jpeg"], body: ByteBuffer(bytes: jpeg))
                #expect(upload.status == .created)
                let media = try #require(((try JSONSerialization.jsonObject(with: Data(buffer: upload.body)) as? [String: Any])?["media"] as? [[String: Any]])?.first)
                let mediaID = try #require(media["id"] as? Int)
                let notImage = try await client.execute(
                    uri: "/api/admin/media/?filename=a.jpg", method: .post, headers: [.authorization: "Bearer \(key)"], body: ByteBuffer(string: "<svg/>"))
                #expect(notImage.status == .unprocessableContent)
                #expect(String(buffer: notImage.body).contains("not a JPEG, PNG, WebP, AVIF or GIF"))

                let (created, body) = try await call(.post, "/api/admin/articles/", #"{"title": "Wire story", "section": "world", "body": "Text **bold**", "tags": ["Ports"], "image": {"media_id": \#(mediaID), "alt": "Cranes"}}"#)
                #expect(created == .created)
                let article = try #require((body["articles"] as? [[String: Any]])?.first)
                let id = try #require(article["id"] as? Int)
                #expect(article["status"] as? String == "draft")
                #expect(article["version"] as? Int == 1)
                #expect((article["authors"] as? [[String: Any]])?.first?["name"] as? String == "Author Person")

                let (bad, badBody) = try await call(.post, "/api/admin/articles/", #"{"title": 5, "section": "world"}"#)
                #expect(bad == .unprocessableContent)
                #expect(((badBody["errors"] as? [[String: Any]])?.first?["field"] as? String) == "title")

                #expect(try await call(.put, "/api/admin/articles/\(id)/", #"{"title": "Wire story, updated", "version": 1}"#).0 == .ok)
                let (stale, staleBody) = try await call(.put, "/api/admin/articles/\(id)/", #"{"title": "Stale", "version": 1}"#)
                #expect(stale == .conflict)
                let error = try #require((staleBody["errors"] as? [[String: Any]])?.first)
                #expect(error["type"] as? String == "UpdateCollisionError")
                #expect((error["context"] as? [String: Any])?["changed_by"] as? String == "Author Person")

                let (published, publishedBody) = try await call(.post, "/api/admin/articles/\(id)/publish")
                #expect(published == .ok)
                #expect(((publishedBody["articles"] as? [[String: Any]])?.first?["status"] as? String) == "published")
                #expect(try await test.site.store.publishedArticles(limit: 5).map(\.title) == ["Wire story, updated"])
                #expect(try await call(.post, "/api/admin/articles/\(id)/schedule", #"{"publish_at": "2001-01-01T00:00:00Z"}"#).0 == .unprocessableContent)
                // An author may not touch someone else's article, nor manage sections.
                #expect(try await call(.put, "/api/admin/articles/1/", #"{"title": "Mine now", "version": 1}"#).0 == .forbidden)
                #expect(try await call(.post, "/api/admin/sections/", #"{"name": "Sport"}"#).0 == .forbidden)
                #expect(try await call(.delete, "/api/admin/articles/\(id)/").0 == .noContent)
                #expect(try await call(.get, "/api/admin/articles/\(id)/").0 == .notFound)
            }
        }
    }

    @Test func uploadsAreJudgedByTheirBytes() async throws {
        try await withTestSite { test in
            let (users, _) = try await seed(test)
            let media = MediaLibrary(store: test.site.store, mediaDirectory: test.site.configuration.mediaDirectory, limits: .init(maxBytes: 100_000))
            let jpeg = try Data(contentsOf: URL(fileURLWithPath: try test.writeJPEG("photo.png", width: 200, height: 100)))
            let item = try await media.upload(jpeg, filename: "photo.png", alt: "A gradient", caption: "", credit: "", by: users[.author]!)
            #expect(item.format == "jpeg")
            #expect(item.path.hasPrefix("uploads/") && item.path.hasSuffix(".jpg"))
            #expect((item.width, item.height) == (200, 100))
            #expect(FileManager.default.fileExists(atPath: test.site.configuration.mediaDirectory + "/" + item.path))
            await #expect(throws: MastheadError.self) {
                _ = try await media.upload(jpeg.prefix(jpeg.count / 2), filename: "cut.jpg", alt: "", caption: "", credit: "", by: users[.author]!)
            }
            await #expect(throws: MastheadError.self) {
                _ = try await media.upload(Data(count: 200_000), filename: "big.jpg", alt: "", caption: "", credit: "", by: users[.author]!)
            }
            let (items, total) = try await test.site.store.mediaItems(search: "gradient", limit: 10)
            #expect(total == 1 && items.first?.id == item.id)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: test.site.configuration.mediaDirectory + "/.incoming")
            #expect(leftovers.isEmpty)
        }
    }
}

@Suite struct NewsroomManagementTests {
    static let password = NewsroomTests.password

    @Test func housekeepingPagesChangeWhatTheySayAndRefuseOtherRoles() async throws {
        try await withTestSite { test in
            let (users, article) = try await NewsroomTests().seed(test)
            let store = test.site.store
            try await buildApplication(site: test.site).test(.router) { client in
                var author = NewsroomVisitor(client)
                _ = try await author.signIn("author@example.org", Self.password)
                #expect(try await author.post("/admin/sections/", ["name": "Sport"]).status == .forbidden)
                #expect(try await author.get("/admin/users/").status == .forbidden)
                #expect(try await author.get("/admin/settings/").status == .forbidden)
                #expect(try await author.get("/admin/tips/").status == .forbidden)
                #expect(try await author.post("/admin/articles/\(article.id)/delete/", [:]).status == .forbidden)

                var editor = NewsroomVisitor(client)
                _ = try await editor.signIn("editor@example.org", Self.password)
                #expect(try await editor.post("/admin/sections/", ["name": "Sport"]).status == .seeOther)
                let sport = try #require(try await store.section(slug: "sport"))
                #expect(try await editor.post("/admin/sections/\(sport.id)/", ["name": "Sports"]).status == .seeOther)
                #expect(try await store.section(slug: "sport")?.name == "Sports")
                let world = try #require(try await store.section(slug: "world"))
                let refused = try await editor.post("/admin/sections/\(world.id)/delete/", [:])
                #expect(refused.status == .conflict && String(buffer: refused.body).contains("still has articles"))
                #expect(try await editor.post("/admin/sections/\(sport.id)/delete/", [:]).status == .seeOther)
                #expect(try await editor.post("/admin/authors/new/", ["name": "Guest Writer", "title": "Contributor", "bio": "Writes *about* ports."]).status == .seeOther)
                let guest = try #require(try await store.author(slug: "guest-writer"))
                #expect(guest.bioHTML.contains("<em>about</em>"))
                #expect(try await editor.post("/admin/authors/new/", ["name": "", "title": ""]).status == .unprocessableContent)
                #expect(try await editor.post("/admin/users/", ["name": "X", "email": "x@example.org", "role": "author"]).status == .forbidden)
                #expect(try await editor.post("/admin/articles/\(article.id)/corrections/", ["kind": "correction", "text": "Fixed."]).status == .unprocessableContent,
                        "a draft takes no corrections")

                var admin = NewsroomVisitor(client)
                _ = try await admin.signIn("admin@example.org", Self.password)
                let added = try await admin.post("/admin/users/", ["name": "New Reporter", "email": "new@example.org", "role": "contributor"])
                #expect(added.status == .ok && String(buffer: added.body).contains("/admin/set-password/"))
                #expect(try await admin.post("/admin/users/", ["name": "Boss", "email": "boss@example.org", "role": "owner"]).status == .unprocessableContent)
                let owner = try #require(users[.owner])
                #expect(try await admin.post("/admin/users/\(owner.id)/", ["role": "author", "state": "active"]).status == .forbidden)
                #expect(try await store.user(id: owner.id)?.role == .owner)
                let contributor = try #require(users[.contributor])
                #expect(try await admin.post("/admin/users/\(contributor.id)/", ["role": "author", "state": "disabled"]).status == .seeOther)
                let changed = try await store.user(id: contributor.id)
                #expect(changed?.role == .author && changed?.isDisabled == true)
                var disabled = NewsroomVisitor(client)
                #expect(try await disabled.signIn("contributor@example.org", Self.password).status == .unauthorized)
                #expect(try await admin.post("/admin/settings/content-keys/", ["name": "App"]).status == .ok)
                #expect(try await store.contentKeys().map(\.name) == ["App"])
            }
        }
    }

    @Test func everyAdminAPIListAndWriteRouteAnswers() async throws {
        try await withTestSite { test in
            let (users, article) = try await NewsroomTests().seed(test)
            let (editorKey, _) = try await test.site.store.createAPIKey(userID: users[.editor]!.id, name: "Desk")
            let (contributorKey, _) = try await test.site.store.createAPIKey(userID: users[.contributor]!.id, name: "Script")
            try await buildApplication(site: test.site).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil, key: String) async throws -> HTTPResponse.Status {
                    var headers: HTTPFields = [.authorization: "Bearer \(key)"]
                    if json != nil { headers[.contentType] = "application/json" }
                    return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }).status
                }
                for path in ["/api/admin/articles/?status=draft", "/api/admin/tags/", "/api/admin/sections/", "/api/admin/media/?search=x"] {
                    #expect(try await call(.get, path, key: editorKey) == .ok, "\(path)")
                }
                #expect(try await call(.get, "/api/admin/articles/?status=lost", key: editorKey) == .badRequest)
                #expect(try await call(.post, "/api/admin/tags/", #"{"name": "Harbours"}"#, key: editorKey) == .created)
                #expect(try await call(.post, "/api/admin/tags/", #"{"name": "Harbours"}"#, key: contributorKey) == .forbidden)
                #expect(try await call(.post, "/api/admin/sections/", #"{"name": "Sport"}"#, key: editorKey) == .created)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/submit", key: editorKey) == .ok)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/corrections", #"{"text": "x"}"#, key: editorKey) == .unprocessableContent)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/publish", key: editorKey) == .ok)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/corrections", #"{"kind": "update", "text": "Now with figures."}"#, key: editorKey) == .created)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/corrections", #"{"kind": "erratum", "text": "x"}"#, key: editorKey) == .unprocessableContent)
                #expect(try await call(.post, "/api/admin/articles/\(article.id)/unpublish", key: contributorKey) == .forbidden)
                #expect(try await call(.post, "/api/admin/articles/", "not json", key: editorKey) == .badRequest)
                #expect(try await call(.post, "/api/admin/articles/", #"{"title": "No section"}"#, key: editorKey) == .unprocessableContent)
                #expect(try await call(.patch, "/api/admin/articles/\(article.id)/", key: editorKey) == .methodNotAllowed)
                #expect(try await call(.get, "/api/admin/nothing/", key: editorKey) == .notFound)
                let corrected = try #require(try await test.site.store.editableArticle(id: article.id))
                #expect(corrected.corrections.map(\.text) == ["Now with figures."])
            }
        }
    }

    @Test func doubledSlashesNeitherLeaveTheSiteNorSkipTheNewsroomGuard() async throws {
        try await withTestSite { test in
            _ = try await NewsroomTests().seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let away = try await client.execute(uri: "//evil.example", method: .get)
                #expect(away.status == .movedPermanently && away.headers[.location] == "/evil.example")
                let media = try await client.execute(uri: "//admin/media/", method: .get)
                #expect(media.status == .movedPermanently && media.headers[.location] == "/admin/media/")
                #expect(try await client.execute(uri: "/admin/media/", method: .get).status == .seeOther)
            }
        }
    }

    @Test func parallelGuessesCannotSlipPastTheLock() async throws {
        try await withTestSite(configuring: { $0.signIn.accountLimit = 3 }) { test in
            _ = try await NewsroomTests().seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                let token = try await visitor.token()
                var headers = visitor.cookieHeader
                headers[.contentType] = "application/x-www-form-urlencoded"
                let sent = headers
                let statuses = await withTaskGroup(of: HTTPResponse.Status.self) { group in
                    for guess in 0..<12 {
                        group.addTask {
                            let body = "csrf=\(token)&email=editor%40example.org&password=guess\(guess)"
                            return (try? await client.execute(uri: "/admin/login/", method: .post, headers: sent, body: ByteBuffer(string: body)).status) ?? .internalServerError
                        }
                    }
                    return await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                // Only three guesses are ever checked: the rest find the account locked.
                #expect(statuses.filter { $0 == .unauthorized }.count == 2)
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 10)
                let failures = try await test.site.store.loginFailures(email: "editor@example.org", window: 900)
                #expect(failures.lockedUntil != nil && failures.failures == 3)
            }
        }
    }

    @Test func theAdminAPIShowsOthersDraftsOnlyToEditors() async throws {
        try await withTestSite { test in
            let (users, article) = try await NewsroomTests().seed(test)
            let (contributorKey, _) = try await test.site.store.createAPIKey(userID: users[.contributor]!.id, name: "Script")
            let (editorKey, _) = try await test.site.store.createAPIKey(userID: users[.editor]!.id, name: "Desk")
            try await buildApplication(site: test.site).test(.router) { client in
                let refused = try await client.execute(uri: "/api/admin/articles/\(article.id)/", method: .get, headers: [.authorization: "Bearer \(contributorKey)"])
                #expect(refused.status == .forbidden)
                let list = try await client.execute(uri: "/api/admin/articles/", method: .get, headers: [.authorization: "Bearer \(contributorKey)"])
                #expect(!String(buffer: list.body).contains("Harbour strike ends"))
                let editor = try await client.execute(uri: "/api/admin/articles/\(article.id)/", method: .get, headers: [.authorization: "Bearer \(editorKey)"])
                #expect(editor.status == .ok)
            }
        }
    }
}
