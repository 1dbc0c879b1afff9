import Foundation
import MastheadCore
import SQLKit

/// A checked image file ready to be recorded in the media library.
public struct NewMedia: Sendable {
    public var path: String
    public var originalName: String
    public var format: String
    public var width: Int
    public var height: Int
    public var bytes: Int
    public var alt: String
    public var caption: String
    public var credit: String
    public var placeholder: String?

    public init(path: String, originalName: String, format: String, width: Int, height: Int, bytes: Int, alt: String, caption: String, credit: String, placeholder: String?) {
        self.path = path
        self.originalName = originalName
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.alt = alt
        self.caption = caption
        self.credit = credit
        self.placeholder = placeholder
    }
}

extension Store {
    /// The stored HTML of an article body, the same for every way an article is written: the
    /// Markdown rendered by `renderer`, and each picture it shows from the media folder given its
    /// size and placeholder from the media library (or from `known`, for files an import is
    /// bringing in the same transaction). How the pictures are offered is decided when pages are rendered.
    public func bodyHTML(markdown: String, renderer: MarkdownRenderer, known: [String: BodyImages.Known] = [:]) async throws -> String {
        let html = renderer.html(from: markdown)
        let unknown = BodyImages.mediaPaths(in: html).filter { known[$0] == nil }
        guard !unknown.isEmpty || !known.isEmpty else { return html }
        var all = known
        if !unknown.isEmpty {
            for row in try await engine.reader.raw("SELECT path, width, height, placeholder FROM media WHERE path IN (\(binds: Array(Set(unknown))))").all() {
                all[try row.decode(column: "path", as: String.self)] = BodyImages.Known(
                    width: try row.decode(column: "width", as: Int.self), height: try row.decode(column: "height", as: Int.self),
                    placeholder: try row.decode(column: "placeholder", as: String?.self))
            }
        }
        return BodyImages.resolve(html, known: all)
    }

    /// Records (or updates) media items in a write's own transaction, matched by path.
    static func recordMedia(_ items: [NewMedia], in db: any SQLDatabase, now: Date) async throws {
        for item in items {
            try await db.raw("""
                INSERT INTO media (path, original_name, format, width, height, bytes, alt, caption, credit, placeholder, created_at)
                VALUES (\(bind: item.path), \(bind: item.originalName), \(bind: item.format), \(bind: item.width), \(bind: item.height),
                        \(bind: item.bytes), \(bind: item.alt), \(bind: item.caption), \(bind: item.credit), \(bind: item.placeholder),
                        \(bind: now.epochSeconds))
                ON CONFLICT (path) DO UPDATE SET format = excluded.format, width = excluded.width, height = excluded.height,
                  bytes = excluded.bytes, placeholder = excluded.placeholder
                """).run()
        }
    }

    private static let mediaSelect: SQLQueryString = """
        SELECT m.id, m.path, m.original_name, m.format, m.width, m.height, m.bytes, m.alt, m.caption, m.credit, m.placeholder,
               m.created_at, u.name AS uploaded_by_name
        FROM media m LEFT JOIN user_account u ON u.id = m.uploaded_by
        """

    public func addMedia(_ item: NewMedia, uploadedBy userID: Int64?, now: Date = .now) async throws -> MediaItem {
        var checked = item
        (checked.alt, checked.caption, checked.credit) = try Self.checkedWords(alt: item.alt, caption: item.caption, credit: item.credit)
        let id = try await engine.write { [checked] db in
            let item = checked
            guard let row = try await db.raw("""
                INSERT INTO media (path, original_name, format, width, height, bytes, alt, caption, credit, placeholder, uploaded_by, created_at)
                VALUES (\(bind: item.path), \(bind: item.originalName), \(bind: item.format), \(bind: item.width), \(bind: item.height),
                        \(bind: item.bytes), \(bind: item.alt), \(bind: item.caption), \(bind: item.credit), \(bind: item.placeholder),
                        \(bind: userID), \(bind: now.epochSeconds))
                RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting a media item returned no id") }
            return try row.decode(column: "id", as: Int64.self)
        }
        guard let stored = try await media(id: id) else { throw MastheadError(.storage, "the media item \(id) is gone") }
        return stored
    }

    /// Media items, newest first; `search` matches the file name, alt text, caption and credit.
    public func mediaItems(search: String? = nil, limit: Int, offset: Int = 0) async throws -> (items: [MediaItem], total: Int) {
        var condition: SQLQueryString = " WHERE 1 = 1"
        if let search = search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            for word in search.split(separator: " ").prefix(8) {
                condition += " AND LOWER(m.original_name || ' ' || m.alt || ' ' || m.caption || ' ' || m.credit) LIKE \(bind: Self.containsPattern(word)) ESCAPE '\\'"
            }
        }
        let total = try await engine.reader.raw("SELECT COUNT(*) AS n FROM media m" + condition).first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await engine.reader.raw(Self.mediaSelect + condition + " ORDER BY m.id DESC LIMIT \(bind: limit) OFFSET \(bind: offset)").all()
        return (try rows.map(Self.mediaItem), total)
    }

    public func media(id: Int64) async throws -> MediaItem? {
        try await engine.reader.raw(Self.mediaSelect + " WHERE m.id = \(bind: id)").first().map(Self.mediaItem)
    }

    public func updateMedia(id: Int64, alt: String, caption: String, credit: String) async throws {
        let (alt, caption, credit) = try Self.checkedWords(alt: alt, caption: caption, credit: credit)
        try await engine.write { db in
            guard try await db.raw("SELECT id FROM media WHERE id = \(bind: id)").first() != nil else {
                throw MastheadError(.notFound, "there is no media item \(id)")
            }
            try await db.raw("UPDATE media SET alt = \(bind: alt), caption = \(bind: caption), credit = \(bind: credit) WHERE id = \(bind: id)").run()
        }
    }

    /// Removes the item from the library; refused while an article shows it. Returns its path.
    public func deleteMedia(id: Int64) async throws -> String {
        try await engine.write { db in
            guard let row = try await db.raw("SELECT path FROM media WHERE id = \(bind: id)").first() else {
                throw MastheadError(.notFound, "there is no media item \(id)")
            }
            let path = try row.decode(column: "path", as: String.self)
            if let user = try await db.raw("SELECT title FROM article WHERE image_source = \(bind: path) LIMIT 1").first() {
                throw MastheadError(.conflict, "the image is the featured image of “\(try user.decode(column: "title", as: String.self))”; choose another image there first")
            }
            try await db.raw("DELETE FROM media WHERE id = \(bind: id)").run()
            return path
        }
    }

    private static func mediaItem(_ row: any SQLRow) throws -> MediaItem {
        MediaItem(
            id: try row.decode(column: "id", as: Int64.self), path: try row.decode(column: "path", as: String.self),
            originalName: try row.decode(column: "original_name", as: String.self), format: try row.decode(column: "format", as: String.self),
            width: try row.decode(column: "width", as: Int.self), height: try row.decode(column: "height", as: Int.self),
            bytes: try row.decode(column: "bytes", as: Int.self), alt: try row.decode(column: "alt", as: String.self),
            caption: try row.decode(column: "caption", as: String.self), credit: try row.decode(column: "credit", as: String.self),
            placeholder: try row.decode(column: "placeholder", as: String?.self),
            uploadedBy: try row.decode(column: "uploaded_by_name", as: String?.self),
            createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
    }

    // MARK: Sections, tags and authors

    /// Adds a section at the end of the navigation.
    @discardableResult
    public func addSection(name: String) async throws -> Section {
        let name = try Self.checkedName(name)
        return try await writeContent { db in
            if try await db.raw("SELECT id FROM section WHERE slug = \(bind: Slug.make(from: name))").first() != nil {
                throw MastheadError(.conflict, "there is already a section called \(name)", location: .init(field: "name"))
            }
            guard !ReservedPaths.segments.contains(Slug.make(from: name)) else {
                throw MastheadError(.invalidInput, "'\(name)' would take an address the site uses itself", location: .init(field: "name"))
            }
            return try await Self.ensureSection(named: name, in: db)
        }
    }

    /// Renames a section; its address stays the same so links keep working.
    public func renameSection(id: Int64, name: String) async throws {
        let name = try Self.checkedName(name)
        try await writeContent { db in
            try await db.raw("UPDATE section SET name = \(bind: name) WHERE id = \(bind: id)").run()
        }
    }

    /// Deletes an empty section; refused while articles are filed under it.
    public func deleteSection(id: Int64) async throws {
        try await writeContent { db in
            if let row = try await db.raw("SELECT COUNT(*) AS n FROM article WHERE section_id = \(bind: id)").first(),
               try row.decode(column: "n", as: Int.self) > 0 {
                throw MastheadError(.conflict, "the section still has articles; move them to another section first")
            }
            try await db.raw("DELETE FROM section WHERE id = \(bind: id)").run()
        }
    }

    /// Every tag, by name, with how many articles (in any state) carry it.
    public func allTags() async throws -> [(Tag, Int)] {
        try await engine.reader.raw("""
            SELECT g.id, g.slug, g.name, COUNT(t.article_id) AS n FROM tag g LEFT JOIN article_tag t ON t.tag_id = g.id
            GROUP BY g.id, g.slug, g.name ORDER BY g.name
            """).all().map { (try Self.tag($0), try $0.decode(column: "n", as: Int.self)) }
    }

    /// Adds a tag (or returns the one with the same slug).
    public func addTag(name: String) async throws -> Tag {
        let name = try Self.checkedName(name)
        return try await writeContent { db in
            let id = try await Self.ensureTag(named: name, in: db)
            guard let row = try await db.raw("SELECT id, slug, name FROM tag WHERE id = \(bind: id)").first() else {
                throw MastheadError(.storage, "the tag \(id) is gone")
            }
            return try Self.tag(row)
        }
    }

    public func renameTag(id: Int64, name: String) async throws {
        let name = try Self.checkedName(name)
        try await writeContent { db in
            try await db.raw("UPDATE tag SET name = \(bind: name) WHERE id = \(bind: id)").run()
        }
    }

    /// Deletes a tag and takes it off every article.
    public func deleteTag(id: Int64) async throws {
        try await writeContent { db in
            try await db.raw("DELETE FROM article_tag WHERE tag_id = \(bind: id)").run()
            try await db.raw("DELETE FROM tag WHERE id = \(bind: id)").run()
        }
    }

    /// Every author profile, by name, with how many articles (in any state) credit it.
    public func allAuthors() async throws -> [(Author, Int)] {
        try await engine.reader.raw("""
            SELECT u.id, u.slug, u.name, u.title, u.bio_html, COUNT(w.article_id) AS n FROM author u
            LEFT JOIN article_author w ON w.author_id = u.id
            GROUP BY u.id, u.slug, u.name, u.title, u.bio_html ORDER BY u.name
            """).all().map { (try Self.author($0), try $0.decode(column: "n", as: Int.self)) }
    }

    public func authorBioMarkdown(id: Int64) async throws -> String {
        try await engine.reader.raw("SELECT bio_markdown FROM author WHERE id = \(bind: id)").first()?.decode(column: "bio_markdown", as: String.self) ?? ""
    }

    /// Creates (id nil) or updates an author profile: a byline that need not be an account.
    @discardableResult
    public func saveAuthorProfile(id: Int64?, name: String, title: String, bioMarkdown: String, bioHTML: String) async throws -> Int64 {
        let name = try PlainText.checked(name, field: "name", label: "the name", maxLength: 120, required: true)
        let title = try PlainText.checked(title, field: "title", label: "the job title", maxLength: 200)
        guard bioMarkdown.utf8.count <= 20_000 else {
            throw MastheadError(.invalidInput, "the biography is longer than 20,000 characters", location: .init(field: "bio"))
        }
        return try await writeContent { db in
            if let id {
                try await db.raw("""
                    UPDATE author SET name = \(bind: name), title = \(bind: title), bio_markdown = \(bind: bioMarkdown), bio_html = \(bind: bioHTML)
                    WHERE id = \(bind: id)
                    """).run()
                return id
            }
            if try await db.raw("SELECT id FROM author WHERE slug = \(bind: Slug.make(from: name))").first() != nil {
                throw MastheadError(.conflict, "there is already an author called \(name)", location: .init(field: "name"))
            }
            guard let row = try await db.raw("""
                INSERT INTO author (slug, name, title, bio_html, bio_markdown)
                VALUES (\(bind: Slug.make(from: name)), \(bind: name), \(bind: title), \(bind: bioHTML), \(bind: bioMarkdown)) RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting an author returned no id") }
            return try row.decode(column: "id", as: Int64.self)
        }
    }

    /// Deletes an author profile that no article credits.
    public func deleteAuthor(id: Int64) async throws {
        try await writeContent { db in
            if try await db.raw("SELECT article_id FROM article_author WHERE author_id = \(bind: id) LIMIT 1").first() != nil {
                throw MastheadError(.conflict, "articles still credit this author; change their bylines first")
            }
            try await db.raw("UPDATE user_account SET author_id = NULL WHERE author_id = \(bind: id)").run()
            try await db.raw("DELETE FROM author WHERE id = \(bind: id)").run()
        }
    }

    /// An image's alt text, caption and credit, checked.
    static func checkedWords(alt: String, caption: String, credit: String) throws -> (String, String, String) {
        (try PlainText.checked(alt, field: "alt", label: "the alt text", maxLength: 1_000),
         try PlainText.checked(caption, field: "caption", label: "the caption", maxLength: 2_000, multiline: true),
         try PlainText.checked(credit, field: "credit", label: "the credit", maxLength: 300))
    }

    private static func checkedName(_ name: String) throws -> String {
        try PlainText.checked(name, field: "name", label: "the name", maxLength: 100, required: true)
    }
}
