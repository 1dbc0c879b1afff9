import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadRendering
import MastheadStorage
import MastheadTesting
import NIOCore
import Testing

/// Requests an attacker would send, and what the site must do with each.
@Suite struct HardeningTests {
    static let password = NewsroomTests.password

    @Test func newsroomPostsAreSizedUpBeforeTheirBodyIsRead() async throws {
        try await withTestSite { test in
            _ = try await NewsroomTests().seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 5 * 1_048_576)
                // No session, no sign-in cookie: refused whatever the body.
                let anonymous = try await client.execute(
                    uri: "/admin/articles/new/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: big)
                #expect(anonymous.status == .forbidden)
                let login = try await client.execute(
                    uri: "/admin/login/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: big)
                #expect(login.status == .forbidden, "the sign-in form without its cookie is a cross-site post")

                var visitor = NewsroomVisitor(client)
                _ = try await visitor.get("/admin/login/")
                var headers = visitor.cookieHeader
                headers[.contentType] = "application/x-www-form-urlencoded"
                let huge = try await client.execute(uri: "/admin/login/", method: .post, headers: headers, body: ByteBuffer(repeating: 0x61, count: 32 * 1024))
                #expect(huge.status == .contentTooLarge, "a sign-in form is small")

                _ = try await visitor.signIn("editor@example.org", Self.password)
                headers = visitor.cookieHeader
                headers[.contentType] = "application/x-www-form-urlencoded"
                let section = try await client.execute(uri: "/admin/sections/", method: .post, headers: headers, body: big)
                #expect(section.status == .contentTooLarge, "only forms that carry an image may be large")
                #expect(String(buffer: section.body).contains("nothing was changed"))
            }
        }
    }

    @Test func uploadsGoToDiskAndLeaveNothingBehind() async throws {
        try await withTestSite { test in
            _ = try await NewsroomTests().seed(test)
            let jpeg = try Data(contentsOf: URL(fileURLWithPath: try test.writeJPEG("photo.jpg", width: 400, height: 300)))
            try await buildApplication(site: test.site).test(.router) { client in
                var visitor = NewsroomVisitor(client)
                _ = try await visitor.signIn("author@example.org", Self.password)
                let token = try await visitor.token()
                let boundary = "----masthead-test"
                func multipart(cutShort: Bool) -> ByteBuffer {
                    var body = ByteBuffer()
                    body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(token)\r\n")
                    body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nA gradient\r\n")
                    body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                    body.writeBytes(cutShort ? jpeg.prefix(jpeg.count / 2) : jpeg)
                    if !cutShort { body.writeString("\r\n--\(boundary)--\r\n") }
                    return body
                }
                var headers = visitor.cookieHeader
                headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
                let cut = try await client.execute(uri: "/admin/media/", method: .post, headers: headers, body: multipart(cutShort: true))
                #expect(cut.status == .badRequest)
                let stored = try await client.execute(uri: "/admin/media/", method: .post, headers: headers, body: multipart(cutShort: false))
                #expect(stored.status == .seeOther)
                let incoming = test.site.configuration.mediaDirectory + "/.incoming"
                #expect((try? FileManager.default.contentsOfDirectory(atPath: incoming))?.isEmpty ?? true, "no temporary file is left")
                #expect(try await test.site.store.mediaItems(search: "gradient", limit: 5).total == 1)
            }
        }
    }

    @Test func webhooksToNonPublicAddressesAreRefusedAtConnectTime() async throws {
        try await withTestSite { test in
            try test.writeArticle("a.md", frontMatter: ["title: Harbour strike ends", "section: World"])
            try await test.importArticles(test.directory + "/a.md")
            let article = try #require(try await test.site.store.article(slug: "harbour-strike-ends"))
            for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/", "http://10.1.2.3/", "http://localhost:9/"] {
                _ = try await test.site.store.addWebhook(url: url, events: [.published])
            }
            await test.site.webhooks.announce(.published, article: article)
            let dispatcher = WebhookDispatcher(store: test.site.store, logger: test.site.logger, backoff: [])
            for delivery in try await test.site.store.dueDeliveries() { await dispatcher.send(delivery) }
            let log = try await test.site.store.recentDeliveries()
            #expect(log.count == 5)
            for delivery in log {
                #expect(delivery.state == .failed && delivery.lastStatus == nil, "\(delivery.url)")
                #expect(delivery.lastError?.contains("not a public internet address") == true, "\(delivery.url): \(delivery.lastError ?? "")")
            }
        }
    }

    @Test func addressesAreJudgedPublicOrNot() {
        for text in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::",
                     "fe80::1", "fd00::1", "fc12::3", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1", "ff02::1",
                     "224.0.0.1", "255.255.255.255", "2001:db8::1"] {
            #expect(NetworkAddress(text)?.isPublic == false, "\(text)")
        }
        for text in ["93.184.216.34", "8.8.8.8", "2606:4700::6810:85e5", "::ffff:8.8.8.8"] {
            #expect(NetworkAddress(text)?.isPublic == true, "\(text)")
        }
        #expect(NetworkAddress("2001:db8:1:2:aaaa::1")?.rateLimitName == NetworkAddress("2001:db8:1:2:bbbb::9")?.rateLimitName,
                "one IPv6 /64 is one client")
        #expect(NetworkAddress("2001:db8:1:3::1")?.rateLimitName != NetworkAddress("2001:db8:1:2::1")?.rateLimitName)
        #expect(NetworkAddress("::ffff:192.0.2.7")?.rateLimitName == "192.0.2.7")
        #expect(NetworkAddress("not an address") == nil)
    }

    @Test func apiKeysNeedThePasswordAndEndWithTheAccount() async throws {
        try await withTestSite { test in
            let (users, _) = try await NewsroomTests().seed(test)
            let store = test.site.store
            try await buildApplication(site: test.site).test(.router) { client in
                var author = NewsroomVisitor(client)
                _ = try await author.signIn("author@example.org", Self.password)
                let refused = try await author.post("/admin/account/keys/", ["name": "Script"])
                #expect(refused.status == .unprocessableContent, "a stolen session alone cannot make a key")
                #expect(try await store.apiKeys(userID: users[.author]!.id).isEmpty)
                let made = try await author.post("/admin/account/keys/", ["name": "Script", "password": Self.password])
                #expect(made.status == .ok)
                let key = try #require(String(buffer: made.body).firstMatch(of: /value="(mh_[^"]+)"/)?.1).description
                #expect(try await store.userForAPIKey(key)?.id == users[.author]!.id)

                var admin = NewsroomVisitor(client)
                _ = try await admin.signIn("admin@example.org", Self.password)
                #expect(try await admin.post("/admin/users/\(users[.author]!.id)/reset/", [:]).status == .ok)
                #expect(try await store.userForAPIKey(key) == nil, "a reset ends the account's keys at once")

                let (editorKey, _) = try await store.createAPIKey(userID: users[.editor]!.id, name: "Desk")
                #expect(try await admin.post("/admin/users/\(users[.editor]!.id)/keys/revoke/", [:]).status == .seeOther)
                #expect(try await store.userForAPIKey(editorKey) == nil, "admins revoke others' keys")
                #expect(try await admin.post("/admin/users/\(users[.owner]!.id)/keys/revoke/", [:]).status == .forbidden)

                let (contributorKey, _) = try await store.createAPIKey(userID: users[.contributor]!.id, name: "Script")
                try await store.updateUser(id: users[.contributor]!.id, role: .contributor, disabled: true)
                #expect(try await store.apiKeys(userID: users[.contributor]!.id).isEmpty, "disabling revokes")
                #expect(try await store.userForAPIKey(contributorKey) == nil)
            }
        }
    }

    @Test func rawHTMLIsTrustedOnlyFromEditors() async throws {
        try await withTestSite(configuring: { $0.trustsHTML = true }) { test in
            let (users, _) = try await NewsroomTests().seed(test)
            let section = try #require(try await test.site.store.section(slug: "world"))
            let planted = """
                Ordinary *text*.

                <form action="/admin/users/"><input name="role" value="admin"><button form="delete" formaction="/admin/users/1/">Continue</button></form>
                <p onclick="steal()">Para <a href="javascript:alert(1)">link</a> <em>kept</em> <span class="note">span</span></p>
                """
            let (contributorKey, _) = try await test.site.store.createAPIKey(userID: users[.contributor]!.id, name: "Script")
            let (editorKey, _) = try await test.site.store.createAPIKey(userID: users[.editor]!.id, name: "Desk")
            try await buildApplication(site: test.site).test(.router) { client in
                func create(_ title: String, _ body: String, key: String) async throws -> String {
                    let json = try JSONSerialization.data(withJSONObject: ["title": title, "section": section.slug, "body": body])
                    let response = try await client.execute(
                        uri: "/api/admin/articles/", method: .post, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                        body: ByteBuffer(data: json))
                    #expect(response.status == .created)
                    let articles = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["articles"] as? [[String: Any]]
                    return articles?.first?["slug"] as? String ?? ""
                }
                let stored = try #require(try await test.site.store.article(slug: try await create("Planted", planted, key: contributorKey))).bodyHTML
                for forbidden in ["<form", "<input", "<button", "formaction", "onclick", "javascript:", "class="] {
                    #expect(!stored.contains(forbidden), "\(forbidden) in \(stored)")
                }
                #expect(stored.contains("<em>kept</em>") && stored.contains("<em>text</em>"))
                let trusted = try await create("Trusted", #"<span class="note">Editor's markup</span>"#, key: editorKey)
                #expect(try #require(try await test.site.store.article(slug: trusted)).bodyHTML.contains(#"class="note""#))

                var admin = NewsroomVisitor(client)
                _ = try await admin.signIn("admin@example.org", Self.password)
                let preview = try await admin.post("/admin/preview/", ["body": planted])
                #expect(preview.status == .ok)
                #expect(!String(buffer: preview.body).contains("<button") && !String(buffer: preview.body).contains("<form"),
                        "previews in the newsroom never carry live form controls")
            }
        }
    }

    @Test func unpublishedWorkStaysOutOfSight() async throws {
        try await withTestSite { test in
            let (users, draft) = try await NewsroomTests().seed(test)
            let store = test.site.store
            let section = try #require(try await store.section(slug: "world"))
            // The owner's draft carries an embargoed tag and a byline no published story has.
            let embargo = try await store.saveAuthorProfile(id: nil, name: "Embargo Writer", title: "", bioMarkdown: "", bioHTML: "")
            _ = try await store.saveArticle(
                id: draft.id, content: ArticleContent(title: draft.title, sectionID: section.id, tagNames: ["Secret merger"], authorIDs: [embargo]),
                bodyHTML: "<p>x</p>", basedOn: draft.version, by: users[.owner]!)
            try test.writeArticle("public.md", frontMatter: ["title: Public story", "section: World", "tags: [Ports]", "authors: [Amara Okafor]"])
            try await test.importArticles(test.directory + "/public.md")
            let key = try await store.createContentKey(name: "Front end")
            try await buildApplication(site: test.site).test(.router) { client in
                for path in ["/tag/secret-merger/", "/tag/secret-merger/feed/", "/author/embargo-writer/", "/author/embargo-writer/feed/json/"] {
                    #expect(try await client.execute(uri: path, method: .get).status == .notFound, "\(path)")
                }
                #expect(try await client.execute(uri: "/tag/ports/", method: .get).status == .ok)
                let tags = String(buffer: try await client.execute(uri: "/api/content/tags/?key=\(key)", method: .get).body)
                #expect(tags.contains("ports") && !tags.contains("secret-merger"))
                let authors = String(buffer: try await client.execute(uri: "/api/content/authors/?key=\(key)", method: .get).body)
                #expect(authors.contains("amara-okafor") && !authors.contains("embargo-writer"))

                var contributor = NewsroomVisitor(client)
                _ = try await contributor.signIn("contributor@example.org", Self.password)
                let list = String(buffer: try await contributor.get("/admin/articles/").body)
                #expect(list.contains("Public story") && !list.contains(draft.title), "contributors do not see others' drafts")
            }
        }
    }

    @Test func aDraftCannotEndAPublishedStorysOldAddress() async throws {
        try await withTestSite { test in
            let (users, article) = try await NewsroomTests().seed(test)
            let store = test.site.store
            var published = try await store.applyWorkflow(.publish, articleID: article.id, by: users[.owner]!)
            let section = try #require(try await store.section(slug: "world"))
            let editable = try #require(try await store.editableArticle(id: article.id))
            var renamed = editable.content
            renamed.slug = "harbour-strike-over"
            published = try await store.saveArticle(id: article.id, content: renamed, bodyHTML: "<p>x</p>", basedOn: published.version, by: users[.owner]!)
            // A contributor's draft takes the old address.
            _ = try await store.saveArticle(
                id: nil, content: ArticleContent(title: "Squatter", slug: article.slug, sectionID: section.id), bodyHTML: "<p>y</p>", basedOn: nil,
                by: users[.contributor]!)
            try await buildApplication(site: test.site).test(.router) { client in
                let old = try await client.execute(uri: "/world/\(article.slug)/", method: .get)
                #expect(old.status == .movedPermanently)
                #expect(old.headers[.location] == "/world/harbour-strike-over/")
            }
        }
    }

    @Test func presetImageAddressesHaveOneSpellingAndFoldersAreNotPages() async throws {
        try await withTestSite { test in
            try test.writeJPEG("a/cranes.jpg", width: 640, height: 360)
            try test.writeArticle("a/story.md", frontMatter: ["title: Cranes", "section: World", "image: cranes.jpg"])
            try await test.importArticles(test.directory + "/a")
            try await buildApplication(site: test.site).test(.router) { client in
                #expect(try await client.execute(uri: "/img/-/w320/cranes/cranes.jpg", method: .get).status == .ok)
                for variant in ["w320-cover", "w320-gsmart", "w320-cover-gentropy"] {
                    #expect(try await client.execute(uri: "/img/-/\(variant)/cranes/cranes.jpg", method: .get).status == .forbidden, "\(variant)")
                }
                #expect(try await client.execute(uri: "/media/%2Fcranes", method: .get).status == .badRequest)
                let folder = try await client.execute(uri: "/media/cranes", method: .get)
                #expect(folder.status == .notFound && folder.headers[.location] == nil)
                #expect(try await client.execute(uri: "/media/cranes/cranes.jpg", method: .get).status == .ok)
            }
        }
    }

    @Test func httpsSitesPinHTTPSAndPrefixTheirCookies() async throws {
        try await withTestSite(configuring: { $0.site.baseURL = "https://news.test" }) { test in
            _ = try await NewsroomTests().seed(test)
            try await buildApplication(site: test.site).test(.router) { client in
                let home = try await client.execute(uri: "/", method: .get)
                #expect(home.headers[.strictTransportSecurity] == "max-age=31536000")
                let login = try await client.execute(uri: "/admin/login/", method: .get)
                let cookie = try #require(login.headers[values: .setCookie].first)
                #expect(cookie.hasPrefix("__Host-masthead_signin=") && cookie.contains("Path=/") && cookie.contains("Secure"))
                #expect(!cookie.contains("Domain"))
            }
        }
    }

    @Test func sessionsEndAfterTheirLongestLifeHoweverBusy() async throws {
        try await withTestSite { test in
            let (users, _) = try await NewsroomTests().seed(test)
            let store = test.site.store
            let started = Date.now.addingTimeInterval(-8 * 86_400)
            let token = try await store.createSession(userID: users[.editor]!.id, lifetime: 30 * 86_400, now: started)
            #expect(try await store.session(token: token, lifetime: 12 * 3600) != nil, "without a cap it would live on")
            #expect(try await store.session(token: token, lifetime: 12 * 3600, maxAge: 7 * 86_400) == nil)
        }
    }

    @Test func aMultipartHeaderWithANonASCIINameIsRefusedNotFatal() async throws {
        try await withTestSite { test in
            try await buildApplication(site: test.site).test(.router) { client in
                // MultipartKit 4.7 trapped on this (found by fuzzing): one request stopped the server.
                var body = ByteBuffer(string: "--B\r\nCont")
                body.writeBytes([0xC3, 0xA9])
                body.writeString("nt-Disposition: form-data; name=\"choice\"\r\n\r\nreject\r\n--B--\r\n")
                let response = try await client.execute(
                    uri: "/consent/", method: .post, headers: [.contentType: "multipart/form-data; boundary=B"], body: body)
                #expect(response.status == .badRequest)
                #expect(try await client.execute(uri: "/consent/", method: .get).status == .ok)
            }
        }
    }

    @Test func hashtagsKeepTheNewsroomsSpelling() {
        #expect(ViewBuilder.hashtag("negotiations") == "#negotiations")
        #expect(ViewBuilder.hashtag("iPhone") == "#iPhone")
        #expect(ViewBuilder.hashtag("COP29") == "#COP29")
        #expect(ViewBuilder.hashtag("Emergency services") == "#EmergencyServices")
        #expect(ViewBuilder.hashtag("COVID-19") == "#COVID19")
    }

    @Test func terminalTextCannotDriveTheTerminal() {
        let hostile = "Hello\u{1B}]0;pwned\u{07}\u{1B}[2J\rline\u{202E}txt.exe\u{9B}\nnext\tcolumn"
        let safe = TerminalText.safe(hostile)
        #expect(!safe.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" })
        #expect(safe.contains("\\x1B]0;pwned\\x07") && safe.contains("\\u{202E}") && safe.contains("\nnext\tcolumn"))
    }
}
