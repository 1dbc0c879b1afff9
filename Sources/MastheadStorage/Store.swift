import Foundation
import Logging
import MastheadCore
import SQLKit

/// The site's content store: articles, sections, tags, authors and pages, over one SQL engine.
///
/// Every write runs in one transaction and raises the content version, which page caches in
/// this and other processes watch to know when to forget what they rendered.
public final class Store: Sendable {
    let engine: any DatabaseEngine
    let logger: Logger
    /// What each finished month holds, for the sitemap index (see ``publishedMonths(now:)``).
    let monthSummaries = MonthSummaries()

    private init(engine: any DatabaseEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    /// Opens the store at `url`; call ``migrate()`` before use.
    public static func open(_ url: DatabaseURL, logger: Logger) async throws -> Store {
        switch url {
        case .sqlite(let path):
            return Store(engine: try await SQLiteEngine.open(path: path, logger: logger), logger: logger)
        case .postgres(let url):
            return Store(engine: try await PostgresEngine.open(url: url, logger: logger), logger: logger)
        }
    }

    /// Closes the store's connections.
    public func close() async {
        await engine.close()
    }

    // MARK: Migrations

    /// Brings the schema up to date. Returns the versions it applied (empty when up to date).
    @discardableResult
    public func migrate() async throws -> [Int] {
        // Several instances starting at once: one migrates, the others wait and find it done.
        try await engine.withMigrationLock { try await self.applyMigrations() }
    }

    private func applyMigrations() async throws -> [Int] {
        try await engine.write { db in
            try await db.create(table: "schema_migration")
                .ifNotExists()
                .column("version", type: .int, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull)
                .column("applied_at", type: .bigint, .notNull)
                .run()
        }
        var applied: [Int] = []
        for migration in Migrations.all {
            let apply: @Sendable (any SQLDatabase) async throws -> Bool = { db in
                let done = try await db.raw("SELECT version FROM schema_migration WHERE version = \(bind: migration.version)").first()
                guard done == nil else { return false }
                try await migration.apply(db)
                try await db.raw(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Date.now.epochSeconds))"
                ).run()
                return true
            }
            let didApply = migration.rebuildsTables ? try await engine.writeRebuildingTables(apply) : try await engine.write(apply)
            if didApply {
                logger.info("applied migration", metadata: ["masthead.migration.version": "\(migration.version)", "masthead.migration.name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// The newest schema version this build knows.
    public static var schemaVersion: Int { Migrations.all.last?.version ?? 0 }

    // MARK: Content version

    /// A number that grows with every change to the content, in any process.
    public func contentVersion() async throws -> Int64 {
        guard let row = try await engine.reader.raw("SELECT content_version FROM site_state WHERE id = 1").first() else {
            throw MastheadError(.storage, "the database has no site_state row; run 'masthead migrate'")
        }
        return try row.decode(column: "content_version", as: Int64.self)
    }

    /// Runs `body` in a write transaction that also raises the content version, noting that any
    /// page may have changed (settings, sections, names shown everywhere).
    func writeContent<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeContent { db, stale in
            stale.everything()
            return try await body(db)
        }
    }

    /// Runs `body` in a write transaction that raises the content version and records, with the
    /// change, which pages it made stale (`body` notes them), so page caches of every instance
    /// forget those pages and keep the rest.
    func writeContent<T: Sendable>(_ body: @Sendable (any SQLDatabase, StalePages) async throws -> T) async throws -> T {
        try await engine.write { db in
            // The version first: a second instance's content write waits here, at the start of
            // its transaction, rather than finding a conflict at the end of a long one.
            guard let row = try await db.raw(
                "UPDATE site_state SET content_version = content_version + 1 WHERE id = 1 RETURNING content_version"
            ).first() else { throw MastheadError(.storage, "the database has no site_state row; run 'masthead migrate'") }
            let version = try row.decode(column: "content_version", as: Int64.self)
            let stale = StalePages()
            let result = try await body(db, stale)
            try await db.raw("INSERT INTO content_change (version, pages) VALUES (\(bind: version), \(bind: stale.keys.joined(separator: "\n")))").run()
            // A day's worth of changes is plenty: an instance further behind forgets everything.
            if version % 100 == 0 { try await db.raw("DELETE FROM content_change WHERE version < \(bind: version - 10_000)").run() }
            return result
        }
    }

    /// How the database would run `query`: one line per step of its plan (for tests and for
    /// looking into a slow page).
    func queryPlan(_ query: SQLQueryString) async throws -> [String] {
        try await engine.reader.raw("EXPLAIN QUERY PLAN " + query).all().map { try $0.decode(column: "detail", as: String.self) }
    }

    /// The changes after content version `version`, oldest first: the newest version and the
    /// page keys made stale (see ``StalePages``); nil keys when everything must be forgotten
    /// (including when the record no longer reaches back to `version`).
    public func contentChanges(after version: Int64) async throws -> (version: Int64, keys: Set<String>?) {
        let rows = try await engine.reader.raw(
            "SELECT version, pages FROM content_change WHERE version > \(bind: version) ORDER BY version LIMIT 1000"
        ).all()
        var newest = version
        var keys: Set<String>? = []
        for row in rows {
            let rowVersion = try row.decode(column: "version", as: Int64.self)
            if rowVersion != newest + 1 { keys = nil }
            newest = rowVersion
            let pages = try row.decode(column: "pages", as: String.self)
            if pages == StalePages.all { keys = nil } else if !pages.isEmpty { keys?.formUnion(pages.split(separator: "\n").map(String.init)) }
        }
        if rows.count == 1000 { keys = nil }
        return (newest, keys)
    }

    /// Notes which public pages an article's change touches: when it is published, its page, the
    /// lists that show it (its section's, tags', authors', the home page, with their page N and
    /// feeds) and the sitemaps. Call before and after the change, so both old and new places go.
    static func notePagesShowing(articleID: Int64, in db: any SQLDatabase, _ stale: StalePages) async throws {
        guard !stale.isEverything else { return }
        guard let row = try await db.raw("""
            SELECT a.slug, a.status, a.published_at, s.slug AS section_slug FROM article a JOIN section s ON s.id = a.section_id WHERE a.id = \(bind: articleID)
            """).first(), try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue else { return }
        stale.month(MonthSummaries.month(containing: Date(epochSeconds: try row.decode(column: "published_at", as: Int64.self))).name)
        let section = try row.decode(column: "section_slug", as: String.self)
        stale.page("/\(section)/\(try row.decode(column: "slug", as: String.self))/")
        stale.list("/")
        stale.list("/\(section)/")
        for tag in try await db.raw("SELECT g.slug FROM article_tag t JOIN tag g ON g.id = t.tag_id WHERE t.article_id = \(bind: articleID)").all() {
            stale.list("/tag/\(try tag.decode(column: "slug", as: String.self))/")
        }
        for author in try await db.raw("SELECT u.slug FROM article_author w JOIN author u ON u.id = w.author_id WHERE w.article_id = \(bind: articleID)").all() {
            stale.list("/author/\(try author.decode(column: "slug", as: String.self))/")
        }
        stale.sitemaps()
    }
}

/// The pages a change made stale, as keys page caches understand (``matches(_:path:)``):
/// `page <path>` one page; `list <path>` a list with its page N and feeds; `sitemaps`; or all of them.
public final class StalePages: @unchecked Sendable {
    /// The record of a change that may touch any page.
    public static let all = "*"
    private(set) var keys: Set<String> = []

    func everything() { keys = [Self.all] }
    var isEverything: Bool { keys.contains(Self.all) }
    func page(_ path: String) { add("page " + path) }
    func list(_ path: String) { add("list " + path) }
    func sitemaps() { add("sitemaps") }
    /// The month (`2026-11`) of a published story that changed, for the sitemap index's summaries.
    func month(_ name: String) { add("month " + name) }

    private func add(_ key: String) {
        if !keys.contains(Self.all) { keys.insert(key) }
    }

    /// Whether the page at `path` is one that `key` names.
    public static func matches(_ key: String, path: String) -> Bool {
        if key.hasPrefix("page ") { return path == key.dropFirst(5) }
        if key.hasPrefix("list ") {
            let list = key.dropFirst(5)
            guard path.hasPrefix(list) else { return false }
            let rest = path.dropFirst(list.count)
            return rest.isEmpty || rest.hasPrefix("page/") || rest.hasPrefix("feed/") || rest == "feed"
        }
        if key == "sitemaps" { return path == "/sitemap.xml" || path.hasPrefix("/sitemaps/") }
        if key.hasPrefix("month ") { return false }   // for ``MonthSummaries``; "sitemaps" names the pages
        return key == all
    }
}

extension Date {
    /// Whole seconds since 1970, as stored in the database.
    var epochSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }

    init(epochSeconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(epochSeconds))
    }
}
