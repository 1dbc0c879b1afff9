import Crypto
import Foundation
import MastheadCore
import SQLKit

extension Store {
    /// Published articles matching `condition`, in `order`, a page of them, and how many match.
    public func contentArticles(
        matching condition: ArticleCondition?, orderNewestFirst: Bool = true, limit: Int, offset: Int, now: Date = .now
    ) async throws -> (articles: [Article], total: Int) {
        var filter = Self.publishedWhere(.init(), now: now)
        if let condition { filter += " AND " + Self.sql(condition) }
        let total = try await engine.reader.raw("SELECT COUNT(*) AS n FROM article a" + filter).first()?.decode(column: "n", as: Int.self) ?? 0
        let direction = orderNewestFirst ? "DESC" : "ASC"
        let rows = try await engine.reader.raw(
            Self.articleSelect() + filter + " ORDER BY a.published_at \(unsafeRaw: direction), a.id \(unsafeRaw: direction) LIMIT \(bind: limit) OFFSET \(bind: offset)"
        ).all()
        return (try await articles(from: rows), total)
    }

    static func sql(_ condition: ArticleCondition) -> SQLQueryString {
        switch condition {
        case .tag(let slug):
            return "EXISTS (SELECT 1 FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id = a.id AND g.slug = \(bind: slug))"
        case .primaryTag(let slug):
            return "EXISTS (SELECT 1 FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id = a.id AND t.position = 0 AND g.slug = \(bind: slug))"
        case .author(let slug):
            return "EXISTS (SELECT 1 FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id = a.id AND u.slug = \(bind: slug))"
        case .primaryAuthor(let slug):
            return "EXISTS (SELECT 1 FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id = a.id AND w.position = 0 AND u.slug = \(bind: slug))"
        case .slug(let slug):
            return "a.slug = \(bind: slug)"
        case .id(let id):
            return "a.id = \(bind: id)"
        case .section(let slug):
            return "a.section_id IN (SELECT id FROM section WHERE slug = \(bind: slug))"
        case .publishedAt(let comparison, let date):
            let op = ["<", "<=", ">", ">="].contains(comparison) ? comparison : "="
            return "a.published_at \(unsafeRaw: op) \(bind: date.epochSeconds)"
        case .not(let inner):
            return "NOT (" + sql(inner) + ")"
        case .all(let parts):
            return parts.isEmpty ? "1 = 1" : "(" + parts.map(sql).joined(separator: " AND ") + ")"
        case .any(let parts):
            return parts.isEmpty ? "1 = 0" : "(" + parts.map(sql).joined(separator: " OR ") + ")"
        }
    }

    /// Tags with their number of published articles, by name.
    public func tagsWithCounts(now: Date = .now) async throws -> [(Tag, Int)] {
        try await engine.reader.raw("""
            SELECT g.id, g.slug, g.name, COUNT(a.id) AS posts FROM tag g
            LEFT JOIN article_tag t ON t.tag_id = g.id
            LEFT JOIN article a ON a.id = t.article_id AND a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)
            GROUP BY g.id, g.slug, g.name ORDER BY g.name
            """).all().map { (try Self.tag($0), try $0.decode(column: "posts", as: Int.self)) }
    }

    /// Authors with their number of published articles, by name.
    public func authorsWithCounts(now: Date = .now) async throws -> [(Author, Int)] {
        try await engine.reader.raw("""
            SELECT u.id, u.slug, u.name, u.title, u.bio_html, COUNT(a.id) AS posts FROM author u
            LEFT JOIN article_author w ON w.author_id = u.id
            LEFT JOIN article a ON a.id = w.article_id AND a.status = 'published' AND a.published_at <= \(bind: now.epochSeconds)
            GROUP BY u.id, u.slug, u.name, u.title, u.bio_html ORDER BY u.name
            """).all().map { (try Self.author($0), try $0.decode(column: "posts", as: Int.self)) }
    }

    /// Standing pages, by title.
    public func pages() async throws -> [Page] {
        var pages: [Page] = []
        for stamp in try await pageStamps() {
            if let page = try await page(slug: String(stamp.path.dropFirst().dropLast())) { pages.append(page) }
        }
        return pages.sorted { $0.title < $1.title }
    }

    // MARK: Content API keys

    /// Creates a Content API key named `name` and returns it; only its hash is stored.
    public func createContentKey(name: String) async throws -> String {
        let name = try PlainText.checked(name, field: "name", label: "the key's name (e.g. 'Mobile app')", maxLength: 100, required: true)
        let key = (0..<13).map { _ in UInt8.random(in: 0...255) }.hexEncoded
        try await engine.write { db in
            try await db.raw(
                "INSERT INTO content_key (name, key_hash, created_at) VALUES (\(bind: name), \(bind: Self.hash(key)), \(bind: Date.now.epochSeconds))"
            ).run()
        }
        return key
    }

    /// Whether `key` is a Content API key the site issued.
    public func isContentKey(_ key: String) async throws -> Bool {
        guard key.count == 26, key.allSatisfy(\.isHexDigit) else { return false }
        return try await engine.reader.raw("SELECT id FROM content_key WHERE key_hash = \(bind: Self.hash(key))").first() != nil
    }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).hexEncoded
    }
}

/// A Content API key as admins see it (the key itself is never stored).
public struct ContentKey: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var createdAt: Date
}

extension Store {
    public func contentKeys() async throws -> [ContentKey] {
        try await engine.reader.raw("SELECT id, name, created_at FROM content_key ORDER BY id").all().map { row in
            ContentKey(
                id: try row.decode(column: "id", as: Int64.self), name: try row.decode(column: "name", as: String.self),
                createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
        }
    }

    /// Revokes a Content API key: front ends using it get 401 from now on.
    public func revokeContentKey(id: Int64) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM content_key WHERE id = \(bind: id)").run()
        }
    }
}
