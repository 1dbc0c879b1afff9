import Crypto
import Foundation
import MastheadCore
import SQLKit

/// Where an imported item came from: the system and site, and its id there.
public struct ImportOrigin: Sendable, Equatable {
    /// The system and site, e.g. `wordpress https://example.com`, `ghost https://example.com`, `markdown`.
    public var origin: String
    /// The item's id there (WordPress's post id, Ghost's post id, a Markdown file's slug).
    public var id: String
    /// A second, global identity (WordPress's GUID), matched when the id is not.
    public var guid: String?

    public init(origin: String, id: String, guid: String? = nil) {
        self.origin = origin
        self.id = id
        self.guid = guid
    }
}

/// An article ready to be stored: its checked source, rendered body and stored image.
public struct ArticleRecord: Sendable {
    public var source: ArticleSource
    public var bodyHTML: String
    public var image: FeaturedImage?
    /// Where it came from; Markdown files are known by their slug.
    public var origin: ImportOrigin
    /// Addresses it had on the old site (`/2013/01/05/slug/`, `/?p=12`), to redirect to it.
    public var legacyPaths: [String]
    /// Says who brought the text in its revisions ("Markdown import", "WordPress import").
    public var importedBy: String

    public init(source: ArticleSource, bodyHTML: String, image: FeaturedImage?, origin: ImportOrigin? = nil, legacyPaths: [String] = [], importedBy: String = "Markdown import") {
        self.source = source
        self.bodyHTML = bodyHTML
        self.image = image
        self.origin = origin ?? ImportOrigin(origin: "markdown", id: source.slug)
        self.legacyPaths = legacyPaths
        self.importedBy = importedBy
    }

    /// A digest of everything the import stores, to tell an unchanged item from a changed one.
    var fingerprint: String {
        let source = source
        let parts: [String] = [
            source.title, source.slug, source.sectionName, source.tagNames.joined(separator: "\u{1}"), source.authorNames.joined(separator: "\u{1}"),
            source.publishedAt.map { String($0.epochSeconds) } ?? "", source.updatedAt.map { String($0.epochSeconds) } ?? "",
            source.summary, image?.source ?? "", image?.alt ?? "", image?.caption ?? "", image?.credit ?? "",
            image?.width.map(String.init) ?? "", image?.height.map(String.init) ?? "", source.disclaimer ? "1" : "0",
            source.status.rawValue, source.bodyMarkdown, bodyHTML, legacyPaths.joined(separator: "\u{1}"), source.canonicalURL,
            source.seoTitle, source.seoDescription,
            (source.corrections ?? []).map { "\($0.kind.rawValue) \($0.date.epochSeconds) \($0.text)" }.joined(separator: "\u{1}"),
        ]
        return SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What an import did with one article.
public struct ImportedArticle: Sendable, Equatable {
    public enum Change: String, Sendable, Equatable {
        /// A new article.
        case created
        /// An article the import had brought before, with its new text (a new version).
        case updated
        /// Nothing had changed since the last import.
        case unchanged
        /// The newsroom edited the story since the last import: its text stays, the import's is kept as a revision.
        case keptEdits = "kept newsroom edits"
        /// The newsroom deleted the story the import brought before: it is not brought back.
        case deletedHere = "deleted in the newsroom"
    }

    public var slug: String
    /// The public URL path, e.g. `/world/harbour-strike-ends/`.
    public var path: String
    public var status: ArticleStatus
    public var change: Change
    /// True when the article is new.
    public var created: Bool { change == .created }

    public init(slug: String, path: String, status: ArticleStatus, change: Change) {
        self.slug = slug
        self.path = path
        self.status = status
        self.change = change
    }
}

/// One import's transaction, fed batch by batch: sections, tags and authors are looked up once
/// per import, and a slug given twice is refused wherever the two files are.
public final class ArticleImport: @unchecked Sendable {
    let db: any SQLDatabase
    let stale: StalePages
    let now: Date
    private var seen: [String: String] = [:]
    private var saved = 0
    /// How many articles were saved so far.
    var count: Int { saved }
    private var sections: [String: Section] = [:]
    /// Whether any webhook listens (events are recorded only then), asked once per import.
    private var webhooksListen: Bool?
    private var tags: [String: Int64] = [:]
    private var authors: [String: Int64] = [:]

    init(db: any SQLDatabase, stale: StalePages, now: Date) {
        self.db = db
        self.stale = stale
        self.now = now
    }

    /// Stores `records`; an existing slug is updated in place, unknown sections, tags and authors are created.
    public func save(_ records: [ArticleRecord]) async throws -> [ImportedArticle] {
        // Checked as the editor checks what it saves.
        let records = try records.map { record in
            var checked = record
            checked.source = try record.source.checked()
            return checked
        }
        for record in records where record.origin.origin == "markdown" {
            if let other = seen[record.source.slug] {
                throw MastheadError(
                    .invalidInput, "slug '\(record.source.slug)' is also used by \(other)",
                    location: .init(file: record.source.file, field: "slug"))
            }
            seen[record.source.slug] = record.source.file
        }
        // New articles (the whole of a first import) are written many at a time; articles the
        // site already has, one by one.
        let known = try await Store.knownRecords(records, in: db)
        var results = [ImportedArticle?](repeating: nil, count: records.count)
        var fresh: [Int] = []
        var later: [Int] = []
        var freshOrigins: Set<String> = []
        for (index, record) in records.enumerated() {
            if known.contains(index) {
                results[index] = try await Store.save(record, in: self)
            } else if freshOrigins.insert(record.origin.origin + "\u{0}" + record.origin.id).inserted {
                fresh.append(index)
            } else {
                later.append(index)
            }
        }
        for (index, result) in zip(fresh, try await Store.create(fresh.map { records[$0] }, in: self)) { results[index] = result }
        for index in later { results[index] = try await Store.save(records[index], in: self) }
        saved += records.count
        return results.map { $0! }
    }

    /// What an import did with one standing page.
    public enum PageChange: String, Sendable {
        case created, updated, unchanged
    }

    /// Creates or updates the standing page at `path` (`about` or `about/team`), found by its
    /// origin; it replaces a page of the same address (the default About page).
    public func savePage(
        path: String, title: String, summary: String, markdown: String, html: String, origin: ImportOrigin, legacyPaths: [String]
    ) async throws -> PageChange {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, segments.allSatisfy({ Slug.isValid(String($0)) }), !ReservedPaths.segments.contains(String(segments[0])) else {
            throw MastheadError(.invalidInput, "'/\(path)/' cannot be a page address", location: .init(field: "slug"))
        }
        if try await db.raw("SELECT id FROM section WHERE slug = \(bind: String(segments[0]))").first() != nil, segments.count == 1 {
            throw MastheadError(.conflict, "'/\(path)/' is already a section's address", location: .init(field: "slug"))
        }
        let fingerprint = SHA256.hash(data: Data([path, title, summary, markdown, html, legacyPaths.joined(separator: " ")].joined(separator: "\u{0}").utf8))
            .map { String(format: "%02x", $0) }.joined()
        let mapped = try await db.raw("""
            SELECT o.fingerprint, p.slug FROM import_origin o JOIN page p ON p.id = o.local_id
            WHERE o.kind = 'page' AND o.origin = \(bind: origin.origin) AND o.source_id = \(bind: origin.id)
            """).first()
        if let mapped, try mapped.decode(column: "fingerprint", as: String.self) == fingerprint, try mapped.decode(column: "slug", as: String.self) == path {
            return .unchanged
        }
        let existed = try await db.raw("SELECT id FROM page WHERE slug = \(bind: path)").first() != nil
        if let mapped, try mapped.decode(column: "slug", as: String.self) != path {
            try await db.raw("DELETE FROM page WHERE slug = \(bind: try mapped.decode(column: "slug", as: String.self))").run()
        }
        guard let row = try await db.raw("""
            INSERT INTO page (slug, title, summary, body_markdown, body_html, modified_at)
            VALUES (\(bind: path), \(bind: title), \(bind: summary), \(bind: markdown), \(bind: html), \(bind: now.epochSeconds))
            ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary,
              body_markdown = excluded.body_markdown, body_html = excluded.body_html, modified_at = excluded.modified_at
            RETURNING id
            """).first() else { throw MastheadError(.storage, "saving the page '\(path)' returned no id") }
        try await db.raw("""
            INSERT INTO import_origin (origin, source_id, kind, local_id, guid, fingerprint, version)
            VALUES (\(bind: origin.origin), \(bind: origin.id), 'page', \(bind: try row.decode(column: "id", as: Int64.self)), \(bind: origin.guid), \(bind: fingerprint), 0)
            ON CONFLICT (origin, source_id, kind) DO UPDATE SET local_id = excluded.local_id, guid = excluded.guid, fingerprint = excluded.fingerprint
            """).run()
        try await Store.recordLegacyPaths(legacyPaths, target: "/\(path)/", in: db)
        stale.everything()
        return existed && mapped == nil ? .updated : mapped == nil ? .created : .updated
    }

    /// Creates any of `names` that are not sections yet, in the order given.
    public func ensureSections(_ names: [String]) async throws {
        for name in names { _ = try await section(named: name) }
    }

    /// Creates or updates the author profile for `name` (matched by its slug).
    public func saveAuthor(name: String, title: String, bioMarkdown: String, bioHTML: String) async throws {
        let id = try await author(named: name)
        try await db.raw("""
            UPDATE author SET name = \(bind: name), title = \(bind: title), bio_markdown = \(bind: bioMarkdown), bio_html = \(bind: bioHTML)
            WHERE id = \(bind: id)
            """).run()
    }

    /// Old addresses answered with a 301 to `target` (a section, tag, author or feed).
    public func recordLegacyAddresses(_ addresses: [(path: String, target: String)]) async throws {
        for address in addresses { try await Store.recordLegacyPaths([address.path], target: address.target, in: db) }
    }

    /// Records the pictures this import brings in the media library, in its transaction.
    public func recordMedia(_ items: [NewMedia]) async throws {
        try await Store.recordMedia(items, in: db, now: now)
    }

    /// Records media files staged for this import (temporary → final, in the media folder), in its transaction.
    public func recordStagedMedia(_ files: [(temporary: String, final: String)]) async throws {
        for file in files {
            try await db.raw("""
                INSERT INTO staged_media (temporary, final) VALUES (\(bind: file.temporary), \(bind: file.final))
                ON CONFLICT (temporary) DO UPDATE SET final = excluded.final
                """).run()
        }
    }

    /// Records `event` for the article in the import's transaction; the server announces it to
    /// the webhooks (see `WebhookNotifier.announceRecordedEvents`), so an import that does not
    /// commit announces nothing and one that does is never lost.
    func record(_ event: ArticleEvent, articleID: Int64) async throws {
        if webhooksListen == nil { webhooksListen = try await db.raw("SELECT id FROM webhook LIMIT 1").first() != nil }
        guard webhooksListen == true else { return }
        try await Store.recordEvent(event, articleID: articleID, in: db, now: now)
    }

    func section(named name: String) async throws -> Section {
        if let known = sections[name] { return known }
        let section = try await Store.ensureSection(named: name, in: db)
        sections[name] = section
        return section
    }

    func tag(named name: String) async throws -> Int64 {
        if let known = tags[name] { return known }
        let id = try await Store.ensureTag(named: name, in: db)
        tags[name] = id
        return id
    }

    func author(named name: String) async throws -> Int64 {
        if let known = authors[name] { return known }
        let id = try await Store.ensureRow(table: "author", name: name, in: db)
        authors[name] = id
        return id
    }
}

extension Store {
    /// Runs an import in one transaction: `body` saves its articles batch by batch (reading the
    /// next files while it goes), and all of them are stored, or none if anything fails.
    public func importArticles<T: Sendable>(
        now: Date = .now, expecting count: Int = 0, _ body: @Sendable (ArticleImport) async throws -> T
    ) async throws -> T {
        try await writeContent { db, stale in
            // A large import touches most lists anyway: past 100 stories, every page goes stale
            // (and no time is spent working out which).
            if count > 100 { stale.everything() }
            let importer = ArticleImport(db: db, stale: stale, now: now)
            let result = try await body(importer)
            if importer.count > 100 { stale.everything() }
            return result
        }
    }

    /// Media files committed imports staged and have not yet moved into place (temporary → final).
    public func stagedMedia() async throws -> [(temporary: String, final: String)] {
        try await engine.reader.raw("SELECT temporary, final FROM staged_media").all().map {
            (try $0.decode(column: "temporary", as: String.self), try $0.decode(column: "final", as: String.self))
        }
    }

    /// Forgets staged files once they are in place.
    public func forgetStagedMedia(_ temporaries: [String]) async throws {
        guard !temporaries.isEmpty else { return }
        try await engine.write { db in
            for temporary in temporaries {
                try await db.raw("DELETE FROM staged_media WHERE temporary = \(bind: temporary)").run()
            }
        }
    }

    /// Stores one imported article. The article is found by where it came from (its origin and
    /// id, else its GUID), then by slug for Markdown files. Unchanged since the last import: nothing
    /// is written. Edited in the newsroom since: the newsroom's text stays and the import's is kept
    /// as a revision. Otherwise the import's text is a new version, with its revision.
    fileprivate static func save(_ record: ArticleRecord, in importer: ArticleImport) async throws -> ImportedArticle {
        let (db, stale, now) = (importer.db, importer.stale, importer.now)
        var source = record.source
        let fingerprint = record.fingerprint
        let origin = record.origin
        var matching: SQLQueryString = "(o.origin = \(bind: origin.origin) AND o.source_id = \(bind: origin.id))"
        if let guid = origin.guid { matching += " OR o.guid = \(bind: guid)" }
        var mapping = try await db.raw("""
            SELECT o.local_id, o.fingerprint, o.version, o.status FROM import_origin o
            WHERE o.kind = 'article' AND (
            """ + matching + """
            ) ORDER BY CASE WHEN o.origin = \(bind: origin.origin) THEN 0 ELSE 1 END LIMIT 1
            """).first()
        var existing: (any SQLRow)?
        if let found = mapping {
            existing = try await db.raw(
                "SELECT id, slug, status, published_at, version FROM article WHERE id = \(bind: try found.decode(column: "local_id", as: Int64.self))"
            ).first()
            if existing == nil {
                // Deleted in the newsroom: an import from another system does not bring it back;
                // a Markdown file (named by its slug) does.
                guard origin.origin == "markdown" else {
                    return ImportedArticle(slug: source.slug, path: "", status: source.status, change: .deletedHere)
                }
                mapping = nil
            }
        }
        if mapping == nil, origin.origin == "markdown" {
            // A Markdown file names its article by slug.
            existing = try await db.raw("SELECT id, slug, status, published_at, version FROM article WHERE slug = \(bind: source.slug)").first()
        }
        // A new article: written as every new one is.
        guard let existing else { return try await create([record], in: importer)[0] }
        let section = try await importer.section(named: source.sectionName)
        let articleID = try existing.decode(column: "id", as: Int64.self)
        let oldSlug = try existing.decode(column: "slug", as: String.self)
        let currentVersion = try existing.decode(column: "version", as: Int.self)
        let currentStatus = try existing.decode(column: "status", as: String.self)
        let importedVersion = try mapping?.decode(column: "version", as: Int.self)
        let importedStatus = try mapping?.decode(column: "status", as: String?.self)
        // Edited in the newsroom since the last import: its text changed (a new version), or its
        // status did (taken down, published early; the scheduler publishing it on time is not an edit).
        let edited = importedVersion != nil && (importedVersion != currentVersion
            || (importedStatus != nil && currentStatus != importedStatus
                && !(importedStatus == ArticleStatus.scheduled.rawValue && currentStatus == ArticleStatus.published.rawValue)))
        if try mapping?.decode(column: "fingerprint", as: String.self) == fingerprint {
            try await recordLegacyPaths(record.legacyPaths, articleID: articleID, in: db)
            return ImportedArticle(slug: oldSlug, path: "/\(section.slug)/\(oldSlug)/", status: source.status, change: .unchanged)
        }
        var authorIDs: [Int64] = []
        for name in source.authorNames { authorIDs.append(try await importer.author(named: name)) }
        var tagIDs: [Int64] = []
        for name in source.tagNames { tagIDs.append(try await importer.tag(named: name)) }
        let image = record.image
        func content() -> ArticleContent {
            ArticleContent(
                title: source.title, summary: source.summary, bodyMarkdown: source.bodyMarkdown, slug: source.slug, sectionID: section.id,
                tagNames: source.tagNames, authorIDs: authorIDs, image: image, disclaimer: source.disclaimer,
                seoTitle: source.seoTitle, seoDescription: source.seoDescription)
        }
        // Edited in the newsroom since the last import: the import becomes a revision beside it,
        // and stays one at every later import until the newsroom takes it up.
        if edited {
            _ = try await insertRevision(db, articleID: articleID, version: currentVersion, kind: .import, userID: nil, userName: record.importedBy, content: content(), now: now)
            try await db.raw("""
                UPDATE import_origin SET fingerprint = \(bind: fingerprint)
                WHERE kind = 'article' AND origin = \(bind: origin.origin) AND source_id = \(bind: origin.id)
                """).run()
            try await recordLegacyPaths(record.legacyPaths, articleID: articleID, in: db)
            return ImportedArticle(slug: oldSlug, path: "/\(section.slug)/\(oldSlug)/", status: source.status, change: .keptEdits)
        }
        let publishedAt = try source.publishedAt?.epochSeconds ?? existing.decode(column: "published_at", as: Int64.self)
        let version = currentVersion + 1
        // A new slug another story holds: the next free one. The old address keeps working.
        if source.slug != oldSlug {
            let base = source.slug
            var number = 1
            while try await db.raw("SELECT id FROM article WHERE slug = \(bind: source.slug) AND id <> \(bind: articleID)").first() != nil {
                number += 1
                source.slug = "\(base.prefix(110))-\(number)"
            }
            if currentStatus == ArticleStatus.published.rawValue, source.slug != oldSlug {
                try await db.raw("""
                    INSERT INTO article_old_slug (slug, article_id) VALUES (\(bind: oldSlug), \(bind: articleID))
                    ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id
                    """).run()
            }
            try await db.raw("DELETE FROM article_old_slug WHERE slug = \(bind: source.slug) AND article_id = \(bind: articleID)").run()
        }
        try await notePagesShowing(articleID: articleID, in: db, stale)
        // A story taken down may be linked from any page (related stories): all pages go stale.
        if currentStatus == ArticleStatus.published.rawValue, source.status != .published { stale.everything() }
        // Written only over the version read above (compare and set): a save that came in between
        // (another instance's editor) keeps its text, and the import becomes a revision beside it.
        guard try await db.raw("""
            UPDATE article SET slug = \(bind: source.slug), title = \(bind: source.title), summary = \(bind: source.summary),
              body_markdown = \(bind: source.bodyMarkdown), body_html = \(bind: record.bodyHTML),
              section_id = \(bind: section.id), status = \(bind: source.status.rawValue),
              published_at = \(bind: publishedAt), updated_at = \(bind: source.updatedAt?.epochSeconds),
              image_source = \(bind: image?.source), image_alt = \(bind: image?.alt ?? ""),
              image_caption = \(bind: image?.caption ?? ""), image_credit = \(bind: image?.credit ?? ""),
              image_width = \(bind: image?.width), image_height = \(bind: image?.height),
              image_placeholder = \(bind: image?.placeholder),
              disclaimer = \(bind: source.disclaimer ? 1 : 0), canonical_url = \(bind: source.canonicalURL),
              seo_title = \(bind: source.seoTitle), seo_description = \(bind: source.seoDescription),
              version = \(bind: version), modified_at = \(bind: now.epochSeconds)
            WHERE id = \(bind: articleID) AND version = \(bind: currentVersion)
            RETURNING id
            """).first() != nil else {
            _ = try await insertRevision(db, articleID: articleID, version: currentVersion, kind: .import, userID: nil, userName: record.importedBy, content: content(), now: now)
            return ImportedArticle(slug: oldSlug, path: "/\(section.slug)/\(oldSlug)/", status: source.status, change: .keptEdits)
        }
        try await db.raw("DELETE FROM article_author WHERE article_id = \(bind: articleID)").run()
        try await db.raw("DELETE FROM article_tag WHERE article_id = \(bind: articleID)").run()
        try await db.searchIndex.index(db, id: articleID, title: source.title, summary: source.summary, bodyHTML: record.bodyHTML)
        // Each link carries the story's publication time while it is published (see stampListings).
        let listedAt: Int64? = source.status == .published ? publishedAt : nil
        for (table, column, ids) in [("article_author", "author_id", authorIDs), ("article_tag", "tag_id", tagIDs)] where !ids.isEmpty {
            var insert: SQLQueryString = "INSERT INTO \(unsafeRaw: table) (article_id, \(unsafeRaw: column), position, listed_at) VALUES "
            for (position, id) in ids.enumerated() {
                if position > 0 { insert += ", " }
                insert += "(\(bind: articleID), \(bind: id), \(bind: position), \(bind: listedAt))"
            }
            try await db.raw(insert).run()
        }
        if let corrections = source.corrections {
            try await db.raw("DELETE FROM correction WHERE article_id = \(bind: articleID)").run()
            for correction in corrections {
                try await db.raw("""
                    INSERT INTO correction (article_id, kind, body, created_at)
                    VALUES (\(bind: articleID), \(bind: correction.kind.rawValue), \(bind: correction.text), \(bind: correction.date.epochSeconds))
                    """).run()
            }
        }
        _ = try await insertRevision(db, articleID: articleID, version: version, kind: .import, userID: nil, userName: record.importedBy, content: content(), now: now)
        try await recordOrigin(origin, articleID: articleID, fingerprint: fingerprint, version: version, status: source.status, in: db)
        try await recordLegacyPaths(record.legacyPaths, articleID: articleID, in: db)
        try await notePagesShowing(articleID: articleID, in: db, stale)
        switch (currentStatus == ArticleStatus.published.rawValue, source.status == .published) {
        case (false, true): try await importer.record(.published, articleID: articleID)
        case (true, true): try await importer.record(.updated, articleID: articleID)
        case (true, false): try await importer.record(.unpublished, articleID: articleID)
        case (false, false): break
        }
        return ImportedArticle(
            slug: source.slug, path: "/\(section.slug)/\(source.slug)/", status: source.status, change: .updated)
    }

    /// The indexes of `records` the site already has: brought before from the same origin (or
    /// GUID), or, for Markdown files, an article with their slug.
    static func knownRecords(_ records: [ArticleRecord], in db: any SQLDatabase) async throws -> Set<Int> {
        var known: Set<Int> = []
        for origin in Set(records.map(\.origin.origin)) {
            let ids = records.filter { $0.origin.origin == origin }.map(\.origin.id)
            // An article deleted in the newsroom is known too (it is not brought back), except a Markdown file's.
            let found = try await db.raw("""
                SELECT o.source_id FROM import_origin o LEFT JOIN article a ON a.id = o.local_id
                WHERE o.kind = 'article' AND o.origin = \(bind: origin) AND o.source_id IN (\(binds: ids))
                  AND (a.id IS NOT NULL OR o.origin <> 'markdown')
                """).all().map { try $0.decode(column: "source_id", as: String.self) }
            let foundSet = Set(found)
            for (index, record) in records.enumerated() where record.origin.origin == origin && foundSet.contains(record.origin.id) { known.insert(index) }
        }
        let guids = records.compactMap(\.origin.guid)
        if !guids.isEmpty {
            let found = Set(try await db.raw("""
                SELECT o.guid FROM import_origin o JOIN article a ON a.id = o.local_id WHERE o.kind = 'article' AND o.guid IN (\(binds: guids))
                """).all().map { try $0.decode(column: "guid", as: String.self) })
            for (index, record) in records.enumerated() where record.origin.guid.map(found.contains) == true { known.insert(index) }
        }
        let markdown = records.filter { $0.origin.origin == "markdown" }.map(\.source.slug)
        if !markdown.isEmpty {
            let found = Set(try await db.raw("SELECT slug FROM article WHERE slug IN (\(binds: markdown))").all().map {
                try $0.decode(column: "slug", as: String.self)
            })
            for (index, record) in records.enumerated() where record.origin.origin == "markdown" && found.contains(record.source.slug) { known.insert(index) }
        }
        return known
    }

    /// Creates articles the site does not have yet: each article row on its own (for its id and
    /// a free slug), then their search entries, links, revisions, origins, old addresses and
    /// events in a few statements for all of them.
    fileprivate static func create(_ records: [ArticleRecord], in importer: ArticleImport) async throws -> [ImportedArticle] {
        guard !records.isEmpty else { return [] }
        let (db, stale, now) = (importer.db, importer.stale, importer.now)
        struct Created {
            var record: ArticleRecord
            var source: ArticleSource
            var id: Int64
            var section: Section
            var authorIDs: [Int64]
            var tagIDs: [Int64]
            var publishedAt: Int64
        }
        var created: [Created] = []
        created.reserveCapacity(records.count)
        for record in records {
            var source = record.source
            let section = try await importer.section(named: source.sectionName)
            var authorIDs: [Int64] = []
            for name in source.authorNames { authorIDs.append(try await importer.author(named: name)) }
            var tagIDs: [Int64] = []
            for name in source.tagNames { tagIDs.append(try await importer.tag(named: name)) }
            let image = record.image
            let publishedAt = source.publishedAt?.epochSeconds ?? now.epochSeconds
            let base = source.slug
            var inserted: (any SQLRow)?
            for number in 1...1000 {
                if number > 1 { source.slug = "\(base.prefix(110))-\(number)" }
                inserted = try await db.raw("""
                    INSERT INTO article (slug, title, summary, body_markdown, body_html, section_id, status, published_at,
                      updated_at, image_source, image_alt, image_caption, image_credit, image_width, image_height,
                      image_placeholder, disclaimer, canonical_url, seo_title, seo_description, version, created_at, modified_at)
                    VALUES (\(bind: source.slug), \(bind: source.title), \(bind: source.summary), \(bind: source.bodyMarkdown),
                      \(bind: record.bodyHTML), \(bind: section.id), \(bind: source.status.rawValue), \(bind: publishedAt),
                      \(bind: source.updatedAt?.epochSeconds), \(bind: image?.source), \(bind: image?.alt ?? ""),
                      \(bind: image?.caption ?? ""), \(bind: image?.credit ?? ""), \(bind: image?.width), \(bind: image?.height),
                      \(bind: image?.placeholder), \(bind: source.disclaimer ? 1 : 0), \(bind: source.canonicalURL),
                      \(bind: source.seoTitle), \(bind: source.seoDescription), 1,
                      \(bind: now.epochSeconds), \(bind: now.epochSeconds))
                    ON CONFLICT (slug) DO NOTHING
                    RETURNING id
                    """).first()
                if inserted != nil || record.origin.origin == "markdown" { break }
            }
            guard let inserted else { throw MastheadError(.conflict, "the slug '\(base)' is taken", location: .init(file: source.file, field: "slug")) }
            created.append(Created(
                record: record, source: source, id: try inserted.decode(column: "id", as: Int64.self), section: section,
                authorIDs: authorIDs, tagIDs: tagIDs, publishedAt: publishedAt))
        }
        try await db.searchIndex.indexNew(db, created.map { ($0.id, $0.source.title, $0.source.summary, $0.record.bodyHTML) })
        try await insertRows(
            "INSERT INTO article_author (article_id, author_id, position, listed_at) VALUES ", in: db,
            created.flatMap { article in
                article.authorIDs.enumerated().map { position, id in
                    "(\(bind: article.id), \(bind: id), \(bind: position), \(bind: article.source.status == .published ? article.publishedAt : nil))" as SQLQueryString
                }
            })
        try await insertRows(
            "INSERT INTO article_tag (article_id, tag_id, position, listed_at) VALUES ", in: db,
            created.flatMap { article in
                article.tagIDs.enumerated().map { position, id in
                    "(\(bind: article.id), \(bind: id), \(bind: position), \(bind: article.source.status == .published ? article.publishedAt : nil))" as SQLQueryString
                }
            })
        let encoder = JSONEncoder()
        try await insertRows(
            "INSERT INTO revision (article_id, version, kind, user_id, user_name, created_at, content) VALUES ", in: db,
            try created.map { article in
                let source = article.source
                let content = ArticleContent(
                    title: source.title, summary: source.summary, bodyMarkdown: source.bodyMarkdown, slug: source.slug,
                    sectionID: article.section.id, tagNames: source.tagNames, authorIDs: article.authorIDs, image: article.record.image,
                    disclaimer: source.disclaimer, seoTitle: source.seoTitle, seoDescription: source.seoDescription)
                let json = String(decoding: try encoder.encode(content), as: UTF8.self)
                return "(\(bind: article.id), 1, 'import', NULL, \(bind: article.record.importedBy), \(bind: now.epochSeconds), \(bind: json))"
            })
        try await insertRows(
            "INSERT INTO import_origin (origin, source_id, kind, local_id, guid, fingerprint, version, status) VALUES ", in: db,
            created.map { article in
                let origin = article.record.origin
                return """
                    (\(bind: origin.origin), \(bind: origin.id), 'article', \(bind: article.id), \(bind: origin.guid), \(bind: article.record.fingerprint), 1,
                     \(bind: article.source.status.rawValue))
                    """
            },
            suffix: """
                 ON CONFLICT (origin, source_id, kind) DO UPDATE SET local_id = excluded.local_id, guid = excluded.guid,
                  fingerprint = excluded.fingerprint, version = excluded.version, status = excluded.status
                """)
        var legacy: [String: Int64] = [:]
        for article in created { for path in article.record.legacyPaths { legacy[path] = article.id } }
        try await insertRows(
            "INSERT INTO legacy_address (path, article_id, target) VALUES ", in: db,
            legacy.sorted { $0.key < $1.key }.map { "(\(bind: $0.key), \(bind: $0.value), NULL)" },
            suffix: " ON CONFLICT (path) DO UPDATE SET article_id = excluded.article_id, target = excluded.target")
        for article in created {
            if let corrections = article.source.corrections, !corrections.isEmpty {
                try await insertRows(
                    "INSERT INTO correction (article_id, kind, body, created_at) VALUES ", in: db,
                    corrections.map { "(\(bind: article.id), \(bind: $0.kind.rawValue), \(bind: $0.text), \(bind: $0.date.epochSeconds))" })
            }
            if article.source.status == .published { try await importer.record(.published, articleID: article.id) }
            try await notePagesShowing(articleID: article.id, in: db, stale)
        }
        return created.map {
            ImportedArticle(slug: $0.source.slug, path: "/\($0.section.slug)/\($0.source.slug)/", status: $0.source.status, change: .created)
        }
    }

    /// `INSERT … VALUES` of `rows`, a few hundred rows per statement.
    private static func insertRows(_ head: SQLQueryString, in db: any SQLDatabase, _ rows: [SQLQueryString], suffix: String = "") async throws {
        for start in stride(from: 0, to: rows.count, by: 400) {
            var insert = head
            for (index, row) in rows[start..<min(start + 400, rows.count)].enumerated() {
                if index > 0 { insert += ", " }
                insert += row
            }
            insert += SQLQueryString(suffix)
            try await db.raw(insert).run()
        }
    }

    private static func recordOrigin(
        _ origin: ImportOrigin, articleID: Int64, fingerprint: String, version: Int, status: ArticleStatus, in db: any SQLDatabase
    ) async throws {
        try await db.raw("""
            INSERT INTO import_origin (origin, source_id, kind, local_id, guid, fingerprint, version, status)
            VALUES (\(bind: origin.origin), \(bind: origin.id), 'article', \(bind: articleID), \(bind: origin.guid), \(bind: fingerprint),
                    \(bind: version), \(bind: status.rawValue))
            ON CONFLICT (origin, source_id, kind) DO UPDATE SET local_id = excluded.local_id, guid = excluded.guid,
              fingerprint = excluded.fingerprint, version = excluded.version, status = excluded.status
            """).run()
    }

    /// Old addresses of an article, redirected to it wherever it lives.
    static func recordLegacyPaths(_ paths: [String], articleID: Int64? = nil, target: String? = nil, in db: any SQLDatabase) async throws {
        guard !paths.isEmpty else { return }
        var insert: SQLQueryString = "INSERT INTO legacy_address (path, article_id, target) VALUES "
        for (index, path) in Set(paths).sorted().enumerated() {
            if index > 0 { insert += ", " }
            insert += "(\(bind: path), \(bind: articleID), \(bind: target))"
        }
        insert += " ON CONFLICT (path) DO UPDATE SET article_id = excluded.article_id, target = excluded.target"
        try await db.raw(insert).run()
    }

    /// Keeps `listed_at` on the article's tag and author links equal to its publication time while
    /// it is published, NULL otherwise, so tag and author pages read their lists from an index.
    /// Called in the transaction of every change to an article's status, time, tags or authors.
    static func stampListings(articleID: Int64, in db: any SQLDatabase) async throws {
        for link in ["article_tag", "article_author"] {
            try await db.raw("""
                UPDATE \(unsafeRaw: link) SET listed_at = (
                  SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM article a WHERE a.id = \(bind: articleID))
                WHERE article_id = \(bind: articleID)
                """).run()
        }
    }

    /// Creates any of `names` that are not sections yet, in the order given; returns all of them.
    @discardableResult
    public func ensureSections(_ names: [String]) async throws -> [Section] {
        try await writeContent { db in try await names.asyncMap { try await Self.ensureSection(named: $0, in: db) } }
    }

    /// Creates or updates the author profile for `name` (matched by its slug).
    @discardableResult
    public func saveAuthor(name: String, title: String, bioMarkdown: String = "", bioHTML: String) async throws -> Author {
        try await writeContent { db in
            let id = try await Self.ensureAuthor(named: name, in: db)
            try await db.raw("""
                UPDATE author SET name = \(bind: name), title = \(bind: title), bio_markdown = \(bind: bioMarkdown), bio_html = \(bind: bioHTML)
                WHERE id = \(bind: id)
                """).run()
            return Author(id: id, slug: Slug.make(from: name), name: name, title: title, bioHTML: bioHTML)
        }
    }

    /// Creates or replaces the standing page at `slug`.
    public func savePage(slug: String, title: String, summary: String, markdown: String, html: String, now: Date = .now) async throws {
        // `about/team`: a page under another.
        let segments = slug.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.allSatisfy(Slug.isValid), !ReservedPaths.segments.contains(segments[0]), segments.count <= 3 else {
            throw MastheadError(.invalidInput, "'\(slug)' cannot be a page address", location: .init(field: "slug"))
        }
        try await writeContent { db in
            if segments.count == 1, try await db.raw("SELECT id FROM section WHERE slug = \(bind: slug)").first() != nil {
                throw MastheadError(.invalidInput, "'/\(slug)/' is already a section's address", location: .init(field: "slug"))
            }
            try await db.raw("""
                INSERT INTO page (slug, title, summary, body_markdown, body_html, modified_at)
                VALUES (\(bind: slug), \(bind: title), \(bind: summary), \(bind: markdown), \(bind: html), \(bind: now.epochSeconds))
                ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary,
                  body_markdown = excluded.body_markdown, body_html = excluded.body_html, modified_at = excluded.modified_at
                """).run()
        }
    }

    /// Appends a correction or update note to the article at `slug`, and marks the article updated.
    @discardableResult
    public func addCorrection(articleSlug: String, kind: Correction.Kind, text: String, at time: Date = .now) async throws -> Correction {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw MastheadError(.invalidInput, "a correction needs its text", location: .init(field: "text"))
        }
        return try await writeContent { db in
            guard let article = try await db.raw("SELECT id, status FROM article WHERE slug = \(bind: articleSlug)").first() else {
                throw MastheadError(.notFound, "there is no article with slug '\(articleSlug)'", location: .init(field: "slug"))
            }
            let articleID = try article.decode(column: "id", as: Int64.self)
            if try article.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue {
                try await Self.recordEvent(.updated, articleID: articleID, in: db, now: time)
            }
            guard let row = try await db.raw(
                "INSERT INTO correction (article_id, kind, body, created_at) VALUES (\(bind: articleID), \(bind: kind.rawValue), \(bind: text), \(bind: time.epochSeconds)) RETURNING id"
            ).first() else { throw MastheadError(.storage, "inserting a correction returned no id") }
            try await db.raw(
                "UPDATE article SET updated_at = \(bind: time.epochSeconds), modified_at = \(bind: time.epochSeconds) WHERE id = \(bind: articleID)"
            ).run()
            return Correction(id: try row.decode(column: "id", as: Int64.self), kind: kind, text: text, createdAt: time)
        }
    }

    // MARK: Find or create

    static func ensureSection(named name: String, in db: any SQLDatabase) async throws -> Section {
        let slug = Slug.make(from: name)
        if let row = try await db.raw("SELECT id, slug, name FROM section WHERE slug = \(bind: slug)").first() {
            return try Self.section(row)
        }
        if try await db.raw("SELECT id FROM page WHERE slug = \(bind: slug)").first() != nil {
            throw MastheadError(.invalidInput, "section '\(name)' would take the address of the page '/\(slug)/'", location: .init(field: "section"))
        }
        guard let row = try await db.raw("""
            INSERT INTO section (slug, name, position)
            VALUES (\(bind: slug), \(bind: name), (SELECT COALESCE(MAX(position), 0) + 1 FROM section))
            RETURNING id
            """).first()
        else { throw MastheadError(.storage, "inserting section '\(name)' returned no id") }
        return Section(id: try row.decode(column: "id", as: Int64.self), slug: slug, name: name)
    }

    private static func ensureAuthor(named name: String, in db: any SQLDatabase) async throws -> Int64 {
        try await ensureRow(table: "author", name: name, in: db)
    }

    static func ensureTag(named name: String, in db: any SQLDatabase) async throws -> Int64 {
        try await ensureRow(table: "tag", name: name, in: db)
    }

    /// The id of the row of `table` whose slug is `name`'s, inserted if missing.
    static func ensureRow(table: String, name: String, in db: any SQLDatabase) async throws -> Int64 {
        let slug = Slug.make(from: name)
        if let row = try await db.raw("SELECT id FROM \(ident: table) WHERE slug = \(bind: slug)").first() {
            return try row.decode(column: "id", as: Int64.self)
        }
        guard let row = try await db.raw("INSERT INTO \(ident: table) (slug, name) VALUES (\(bind: slug), \(bind: name)) RETURNING id").first() else {
            throw MastheadError(.storage, "inserting \(table) '\(name)' returned no id")
        }
        return try row.decode(column: "id", as: Int64.self)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

extension Store {
    /// A LIKE pattern matching `word` anywhere, with `%`, `_` and `\` taken literally (use with `ESCAPE '\'`).
    static func containsPattern(_ word: some StringProtocol) -> String {
        "%" + word.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
