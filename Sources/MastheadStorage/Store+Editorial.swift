import Foundation
import MastheadCore
import SQLKit

/// Which articles the newsroom's list shows.
public struct EditorialFilter: Sendable, Equatable {
    public var status: ArticleStatus?
    public var sectionID: Int64?
    public var authorID: Int64?
    public var tagID: Int64?
    /// Words the headline must contain.
    public var titleSearch: String?
    /// Only articles this account created, and published ones.
    public var visibleTo: Int64?

    public init(status: ArticleStatus? = nil, sectionID: Int64? = nil, authorID: Int64? = nil, tagID: Int64? = nil, titleSearch: String? = nil) {
        self.status = status
        self.sectionID = sectionID
        self.authorID = authorID
        self.tagID = tagID
        self.titleSearch = titleSearch
    }
}

/// A workflow step asked for by the editor or the Admin API.
public enum WorkflowAction: Sendable, Equatable {
    case draft
    case submitForReview
    case schedule(Date)
    case publish
    case unpublish
}

extension Store {
    // MARK: Listing

    private static let summarySelect: SQLQueryString = """
        SELECT a.id, a.slug, a.title, a.status, a.published_at, a.modified_at, a.version, a.created_by,
               s.id AS section_id, s.slug AS section_slug, s.name AS section_name, m.name AS modified_by_name
        FROM article a JOIN section s ON s.id = a.section_id LEFT JOIN user_account m ON m.id = a.modified_by
        """

    /// Articles in any state matching `filter`, most recently changed first, with the total.
    public func editorialArticles(_ filter: EditorialFilter, limit: Int, offset: Int) async throws -> (articles: [ArticleSummary], total: Int) {
        var condition: SQLQueryString = " WHERE 1 = 1"
        if let status = filter.status {
            condition += " AND a.status = \(bind: status.rawValue)"
            // Said outright, so the index of unpublished stories by last change can serve the list.
            if status != .published { condition += " AND a.status <> 'published'" }
        }
        if let owner = filter.visibleTo { condition += " AND (a.created_by = \(bind: owner) OR a.status = 'published')" }
        if let id = filter.sectionID { condition += " AND a.section_id = \(bind: id)" }
        if let id = filter.tagID { condition += " AND EXISTS (SELECT 1 FROM article_tag t WHERE t.article_id = a.id AND t.tag_id = \(bind: id))" }
        if let id = filter.authorID { condition += " AND EXISTS (SELECT 1 FROM article_author w WHERE w.article_id = a.id AND w.author_id = \(bind: id))" }
        if let words = filter.titleSearch?.trimmingCharacters(in: .whitespaces), !words.isEmpty {
            for word in words.split(separator: " ").prefix(8) {
                condition += " AND LOWER(a.title) LIKE \(bind: Self.containsPattern(word)) ESCAPE '\\'"
            }
        }
        let total = try await engine.reader.raw("SELECT COUNT(*) AS n FROM article a" + condition).first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await engine.reader.raw(
            Self.summarySelect + condition + " ORDER BY a.modified_at DESC, a.id DESC LIMIT \(bind: limit) OFFSET \(bind: offset)"
        ).all()
        return (try await summaries(from: rows), total)
    }

    public func articleSummary(id: Int64) async throws -> ArticleSummary? {
        try await summaries(from: try await engine.reader.raw(Self.summarySelect + " WHERE a.id = \(bind: id)").all()).first
    }

    private func summaries(from rows: [any SQLRow]) async throws -> [ArticleSummary] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
        var names: [Int64: [String]] = [:]
        for row in try await engine.reader.raw(
            "SELECT w.article_id, u.name FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id IN (\(binds: ids)) ORDER BY w.position"
        ).all() {
            names[try row.decode(column: "article_id", as: Int64.self), default: []].append(try row.decode(column: "name", as: String.self))
        }
        return try rows.map { row in
            let id = try row.decode(column: "id", as: Int64.self)
            return ArticleSummary(
                id: id, slug: try row.decode(column: "slug", as: String.self), title: try row.decode(column: "title", as: String.self),
                status: ArticleStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft,
                section: try Self.section(row, prefix: "section_"),
                authorNames: names[id] ?? [], createdBy: try row.decode(column: "created_by", as: Int64?.self),
                publishedAt: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self)),
                modifiedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)),
                modifiedByName: try row.decode(column: "modified_by_name", as: String?.self),
                version: try row.decode(column: "version", as: Int.self))
        }
    }

    static func section(_ row: any SQLRow, prefix: String) throws -> Section {
        Section(
            id: try row.decode(column: prefix + "id", as: Int64.self), slug: try row.decode(column: prefix + "slug", as: String.self),
            name: try row.decode(column: prefix + "name", as: String.self))
    }

    // MARK: Opening and saving

    /// The article `id` as the editor opens it.
    public func editableArticle(id: Int64) async throws -> EditableArticle? {
        guard let summary = try await articleSummary(id: id),
              let row = try await engine.reader.raw("""
                SELECT summary, body_markdown, section_id, image_source, image_alt, image_caption, image_credit, image_width,
                       image_height, image_placeholder, disclaimer, seo_title, seo_description
                FROM article WHERE id = \(bind: id)
                """).first()
        else { return nil }
        let tags = try await engine.reader.raw(
            "SELECT g.name FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id = \(bind: id) ORDER BY t.position"
        ).all().map { try $0.decode(column: "name", as: String.self) }
        let authors = try await engine.reader.raw(
            "SELECT author_id FROM article_author WHERE article_id = \(bind: id) ORDER BY position"
        ).all().map { try $0.decode(column: "author_id", as: Int64.self) }
        let image = try row.decode(column: "image_source", as: String?.self).map { source in
            FeaturedImage(
                source: source, alt: try row.decode(column: "image_alt", as: String.self),
                caption: try row.decode(column: "image_caption", as: String.self), credit: try row.decode(column: "image_credit", as: String.self),
                width: try row.decode(column: "image_width", as: Int?.self), height: try row.decode(column: "image_height", as: Int?.self),
                placeholder: try row.decode(column: "image_placeholder", as: String?.self))
        }
        let content = ArticleContent(
            title: summary.title, summary: try row.decode(column: "summary", as: String.self),
            bodyMarkdown: try row.decode(column: "body_markdown", as: String.self), slug: summary.slug,
            sectionID: try row.decode(column: "section_id", as: Int64.self), tagNames: tags, authorIDs: authors, image: image,
            disclaimer: try row.decode(column: "disclaimer", as: Int.self) != 0,
            seoTitle: try row.decode(column: "seo_title", as: String.self), seoDescription: try row.decode(column: "seo_description", as: String.self))
        let corrections = try await engine.reader.raw(
            "SELECT id, kind, body, created_at FROM correction WHERE article_id = \(bind: id) ORDER BY created_at, id"
        ).all().map { row in
            Correction(
                id: try row.decode(column: "id", as: Int64.self),
                kind: Correction.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .correction,
                text: try row.decode(column: "body", as: String.self),
                createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
        }
        return EditableArticle(summary: summary, content: content, corrections: corrections)
    }

    /// Creates an article (when `id` is nil) or saves a new version of one, keeping a revision.
    ///
    /// A save of an existing article must name the version it was based on. When someone else
    /// saved since, nothing changes but a `conflict` revision that keeps the refused text, and an
    /// ``EditConflict`` says who changed it and when.
    public func saveArticle(
        id: Int64?, content: ArticleContent, bodyHTML: String, basedOn version: Int?, by user: User,
        revisionKind: Revision.Kind = .save, now: Date = .now
    ) async throws -> ArticleSummary {
        let content = try content.validated()
        let outcome: Result<Int64, EditConflict> = try await writeContent { db, stale in
            guard try await db.raw("SELECT id FROM section WHERE id = \(bind: content.sectionID)").first() != nil else {
                throw MastheadError(.invalidInput, "there is no section \(content.sectionID)", location: .init(field: "section"))
            }
            let clash = try await db.raw("SELECT id FROM article WHERE slug = \(bind: content.slug)").first()
            if let clash, try clash.decode(column: "id", as: Int64.self) != id {
                throw MastheadError(.conflict, "another article already uses the slug '\(content.slug)'", location: .init(field: "slug"))
            }
            for authorID in content.authorIDs where try await db.raw("SELECT id FROM author WHERE id = \(bind: authorID)").first() == nil {
                throw MastheadError(.invalidInput, "there is no author \(authorID)", location: .init(field: "authors"))
            }
            let articleID: Int64
            let newVersion: Int
            if let id {
                guard let row = try await db.raw("""
                    SELECT a.version, a.modified_at, a.slug, a.status, m.name AS modified_by_name FROM article a
                    LEFT JOIN user_account m ON m.id = a.modified_by WHERE a.id = \(bind: id)
                    """).first() else {
                    throw MastheadError(.notFound, "there is no article \(id)")
                }
                let current = try row.decode(column: "version", as: Int.self)
                guard let version else {
                    throw MastheadError(.invalidInput, "a save must say which version it was based on", location: .init(field: "version"))
                }
                guard (1...Int(Int32.max)).contains(version) else {
                    throw MastheadError(.invalidInput, "\(version) is not a version an article can have", location: .init(field: "version"))
                }
                if version != current {
                    let kept = try await Self.insertRevision(db, articleID: id, version: version, kind: .conflict, user: user, content: content, now: now)
                    return .failure(EditConflict(
                        currentVersion: current, changedBy: try row.decode(column: "modified_by_name", as: String?.self) ?? "someone else",
                        changedAt: Date(epochSeconds: try row.decode(column: "modified_at", as: Int64.self)), keptRevision: kept))
                }
                newVersion = current + 1
                articleID = id
                // Where the story was shown before the save (its old address, section, tags) goes stale too.
                try await Self.notePagesShowing(articleID: id, in: db, stale)
                // A published story keeps its old address working when its slug changes.
                let oldSlug = try row.decode(column: "slug", as: String.self)
                if oldSlug != content.slug, try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue {
                    try await db.raw("""
                        INSERT INTO article_old_slug (slug, article_id) VALUES (\(bind: oldSlug), \(bind: id))
                        ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id
                        """).run()
                }
                // Taking back one of its own old slugs ends that redirect; another story's old address
                // keeps redirecting until a story that holds it is published (see applyWorkflow).
                try await db.raw("DELETE FROM article_old_slug WHERE slug = \(bind: content.slug) AND article_id = \(bind: id)").run()
                if try await db.raw("""
                    UPDATE article SET slug = \(bind: content.slug), title = \(bind: content.title), summary = \(bind: content.summary),
                      body_markdown = \(bind: content.bodyMarkdown), body_html = \(bind: bodyHTML), section_id = \(bind: content.sectionID),
                      image_source = \(bind: content.image?.source), image_alt = \(bind: content.image?.alt ?? ""),
                      image_caption = \(bind: content.image?.caption ?? ""), image_credit = \(bind: content.image?.credit ?? ""),
                      image_width = \(bind: content.image?.width), image_height = \(bind: content.image?.height),
                      image_placeholder = \(bind: content.image?.placeholder), disclaimer = \(bind: content.disclaimer ? 1 : 0),
                      seo_title = \(bind: content.seoTitle), seo_description = \(bind: content.seoDescription),
                      version = \(bind: newVersion), modified_at = \(bind: now.epochSeconds), modified_by = \(bind: user.id)
                    WHERE id = \(bind: id) AND version = \(bind: current) RETURNING id
                    """).first() == nil {
                    // Compare-and-set: the version read above must still be the article's.
                    throw MastheadError(.conflict, "the article changed while it was being saved; save again")
                }
                try await db.raw("DELETE FROM article_author WHERE article_id = \(bind: id)").run()
                try await db.raw("DELETE FROM article_tag WHERE article_id = \(bind: id)").run()
                // A published story changed: readers' copies elsewhere (caches, apps) are out of date.
                if try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue {
                    try await Self.recordEvent(.updated, articleID: id, in: db, now: now)
                }
            } else {
                newVersion = 1
                guard let row = try await db.raw("""
                    INSERT INTO article (slug, title, summary, body_markdown, body_html, section_id, status, published_at, image_source,
                      image_alt, image_caption, image_credit, image_width, image_height, image_placeholder, disclaimer, seo_title,
                      seo_description, version, created_by, modified_by, created_at, modified_at)
                    VALUES (\(bind: content.slug), \(bind: content.title), \(bind: content.summary), \(bind: content.bodyMarkdown),
                      \(bind: bodyHTML), \(bind: content.sectionID), 'draft', \(bind: now.epochSeconds), \(bind: content.image?.source),
                      \(bind: content.image?.alt ?? ""), \(bind: content.image?.caption ?? ""), \(bind: content.image?.credit ?? ""),
                      \(bind: content.image?.width), \(bind: content.image?.height), \(bind: content.image?.placeholder),
                      \(bind: content.disclaimer ? 1 : 0), \(bind: content.seoTitle), \(bind: content.seoDescription), 1,
                      \(bind: user.id), \(bind: user.id), \(bind: now.epochSeconds), \(bind: now.epochSeconds))
                    RETURNING id
                    """).first() else { throw MastheadError(.storage, "inserting an article returned no id") }
                articleID = try row.decode(column: "id", as: Int64.self)
            }
            for (position, authorID) in content.authorIDs.enumerated() {
                try await db.raw("INSERT INTO article_author (article_id, author_id, position) VALUES (\(bind: articleID), \(bind: authorID), \(bind: position))").run()
            }
            for (position, name) in content.tagNames.enumerated() {
                let tagID = try await Self.ensureTag(named: name, in: db)
                try await db.raw("INSERT INTO article_tag (article_id, tag_id, position) VALUES (\(bind: articleID), \(bind: tagID), \(bind: position))").run()
            }
            try await Self.stampListings(articleID: articleID, in: db)
            try await Self.notePagesShowing(articleID: articleID, in: db, stale)
            try await db.searchIndex.index(db, id: articleID, title: content.title, summary: content.summary, bodyHTML: bodyHTML)
            _ = try await Self.insertRevision(db, articleID: articleID, version: newVersion, kind: revisionKind, user: user, content: content, now: now)
            return .success(articleID)
        }
        switch outcome {
        case .success(let articleID):
            guard let summary = try await articleSummary(id: articleID) else { throw MastheadError(.storage, "the saved article \(articleID) is gone") }
            return summary
        case .failure(let conflict):
            throw conflict
        }
    }

    private static func insertRevision(
        _ db: any SQLDatabase, articleID: Int64, version: Int, kind: Revision.Kind, user: User, content: ArticleContent, now: Date
    ) async throws -> Int64 {
        try await insertRevision(db, articleID: articleID, version: version, kind: kind, userID: user.id, userName: user.name, content: content, now: now)
    }

    static func insertRevision(
        _ db: any SQLDatabase, articleID: Int64, version: Int, kind: Revision.Kind, userID: Int64?, userName: String, content: ArticleContent, now: Date
    ) async throws -> Int64 {
        let json = String(decoding: try JSONEncoder().encode(content), as: UTF8.self)
        guard let row = try await db.raw("""
            INSERT INTO revision (article_id, version, kind, user_id, user_name, created_at, content)
            VALUES (\(bind: articleID), \(bind: version), \(bind: kind.rawValue), \(bind: userID), \(bind: userName), \(bind: now.epochSeconds), \(bind: json))
            RETURNING id
            """).first() else { throw MastheadError(.storage, "inserting a revision returned no id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    /// The article that once had `slug` (before a rename), for redirecting old links.
    public func articleByOldSlug(_ slug: String) async throws -> Article? {
        guard let row = try await engine.reader.raw("SELECT article_id FROM article_old_slug WHERE slug = \(bind: slug)").first() else { return nil }
        let rows = try await engine.reader.raw(Self.articleSelect() + " WHERE a.id = \(bind: try row.decode(column: "article_id", as: Int64.self))").all()
        return try await articles(from: rows).first
    }

    // MARK: Workflow

    /// Moves the article along the workflow. Publishing stamps the time (unless it was published
    /// before); scheduling needs a time in the future; unpublishing makes it a draft again.
    @discardableResult
    public func applyWorkflow(_ action: WorkflowAction, articleID: Int64, by user: User, now: Date = .now) async throws -> ArticleSummary {
        try await writeContent { db, stale in
            guard let row = try await db.raw("SELECT status, published_at FROM article WHERE id = \(bind: articleID)").first() else {
                throw MastheadError(.notFound, "there is no article \(articleID)")
            }
            let status = ArticleStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .draft
            let publishedAt = try row.decode(column: "published_at", as: Int64.self)
            let (newStatus, newTime): (ArticleStatus, Int64) = switch action {
            case .draft, .unpublish: (.draft, publishedAt)
            case .submitForReview: (.review, publishedAt)
            case .schedule(let time): (.scheduled, time.epochSeconds)
            case .publish: (.published, status == .published ? publishedAt : now.epochSeconds)
            }
            if case .schedule(let time) = action, time <= now {
                throw MastheadError(.invalidInput, "the scheduled time has already passed; choose a time in the future or publish now", location: .init(field: "publish_at"))
            }
            // A story taken down may be linked from any page (related stories): all pages go stale.
            if status == .published && newStatus != .published { stale.everything() }
            try await Self.notePagesShowing(articleID: articleID, in: db, stale)
            try await db.raw("""
                UPDATE article SET status = \(bind: newStatus.rawValue), published_at = \(bind: newTime),
                  modified_at = \(bind: now.epochSeconds), modified_by = \(bind: user.id)
                WHERE id = \(bind: articleID)
                """).run()
            try await Self.stampListings(articleID: articleID, in: db)
            try await Self.notePagesShowing(articleID: articleID, in: db, stale)
            switch (status == .published, newStatus == .published) {
            case (false, true): try await Self.recordEvent(.published, articleID: articleID, in: db, now: now)
            case (true, false): try await Self.recordEvent(.unpublished, articleID: articleID, in: db, now: now)
            default: break
            }
            // A story published at an address another story once had takes it over for good.
            if newStatus == .published {
                try await db.raw("DELETE FROM article_old_slug WHERE slug = (SELECT slug FROM article WHERE id = \(bind: articleID))").run()
            }
        }
        guard let summary = try await articleSummary(id: articleID) else { throw MastheadError(.notFound, "there is no article \(articleID)") }
        return summary
    }

    /// Publishes every scheduled article whose time has come (including times passed while the
    /// server was down). Safe to run in several processes at once: each article is published once.
    public func publishDueArticles(now: Date = .now) async throws -> [ArticleSummary] {
        let ids: [Int64] = try await engine.reader.raw(
            "SELECT id FROM article WHERE status = 'scheduled' AND published_at <= \(bind: now.epochSeconds)"
        ).all().map { try $0.decode(column: "id", as: Int64.self) }
        guard !ids.isEmpty else { return [] }
        let published: [Int64] = try await writeContent { db, stale in
            var done: [Int64] = []
            for id in ids {
                // Re-checked inside the transaction: another instance may have published it already.
                guard try await db.raw("SELECT id FROM article WHERE id = \(bind: id) AND status = 'scheduled' AND published_at <= \(bind: now.epochSeconds)").first() != nil else { continue }
                try await db.raw("UPDATE article SET status = 'published', modified_at = \(bind: now.epochSeconds) WHERE id = \(bind: id)").run()
                try await Self.stampListings(articleID: id, in: db)
                try await Self.notePagesShowing(articleID: id, in: db, stale)
                try await db.raw("DELETE FROM article_old_slug WHERE slug = (SELECT slug FROM article WHERE id = \(bind: id))").run()
                try await db.raw("""
                    INSERT INTO article_event (article_id, event, created_at) VALUES (\(bind: id), 'article.published', \(bind: now.epochSeconds))
                    """).run()
                done.append(id)
            }
            return done
        }
        var summaries: [ArticleSummary] = []
        for id in published { if let summary = try await articleSummary(id: id) { summaries.append(summary) } }
        return summaries
    }

    /// Deletes the article, its revisions, corrections and search entry.
    public func deleteArticle(id: Int64) async throws {
        try await writeContent { db, stale in
            guard let row = try await db.raw("SELECT status FROM article WHERE id = \(bind: id)").first() else {
                throw MastheadError(.notFound, "there is no article \(id)")
            }
            // A published story may be linked from any page (related stories): all pages go stale.
            if try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue { stale.everything() }
            try await db.searchIndex.remove(db, id: id)
            try await db.raw("DELETE FROM article WHERE id = \(bind: id)").run()
        }
    }

    // MARK: Revisions

    public func revisions(articleID: Int64) async throws -> [Revision] {
        try await engine.reader.raw(
            "SELECT id, article_id, version, kind, user_name, created_at, content FROM revision WHERE article_id = \(bind: articleID) ORDER BY id DESC"
        ).all().map(Self.revision)
    }

    public func revision(id: Int64) async throws -> Revision? {
        try await engine.reader.raw(
            "SELECT id, article_id, version, kind, user_name, created_at, content FROM revision WHERE id = \(bind: id)"
        ).first().map(Self.revision)
    }

    private static func revision(_ row: any SQLRow) throws -> Revision {
        Revision(
            id: try row.decode(column: "id", as: Int64.self), articleID: try row.decode(column: "article_id", as: Int64.self),
            version: try row.decode(column: "version", as: Int.self),
            kind: Revision.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .save,
            userName: try row.decode(column: "user_name", as: String.self),
            createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)),
            content: try JSONDecoder().decode(ArticleContent.self, from: Data(try row.decode(column: "content", as: String.self).utf8)))
    }

    // MARK: Preview links

    /// A private link token to read the article as it stands, valid for `lifetime`; replaces any earlier one.
    public func createPreviewToken(articleID: Int64, lifetime: TimeInterval, now: Date = .now) async throws -> String {
        let token = SecretToken.make()
        try await engine.write { db in
            try await db.raw("""
                UPDATE article SET preview_token_hash = \(bind: Self.hash(token)), preview_expires_at = \(bind: now.addingTimeInterval(lifetime).epochSeconds)
                WHERE id = \(bind: articleID)
                """).run()
        }
        return token
    }

    /// The article a live preview token opens, in whatever state it is.
    public func articleForPreview(token: String, now: Date = .now) async throws -> Article? {
        let rows = try await engine.reader.raw(
            Self.articleSelect() + " WHERE a.preview_token_hash = \(bind: Self.hash(token)) AND a.preview_expires_at > \(bind: now.epochSeconds)"
        ).all()
        return try await articles(from: rows).first
    }

    // MARK: Corrections

    /// Appends a correction to the article `id` (by slug underneath).
    @discardableResult
    public func addCorrection(articleID: Int64, kind: Correction.Kind, text: String, at time: Date = .now) async throws -> Correction {
        guard let summary = try await articleSummary(id: articleID) else { throw MastheadError(.notFound, "there is no article \(articleID)") }
        return try await addCorrection(articleSlug: summary.slug, kind: kind, text: text, at: time)
    }
}
