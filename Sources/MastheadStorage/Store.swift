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

    private init(engine: any DatabaseEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    /// Opens the store at `url`; call ``migrate()`` before use.
    public static func open(_ url: DatabaseURL, logger: Logger) async throws -> Store {
        switch url {
        case .sqlite(let path):
            return Store(engine: try await SQLiteEngine.open(path: path, logger: logger), logger: logger)
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
            let didApply = try await engine.write { db in
                let done = try await db.raw("SELECT version FROM schema_migration WHERE version = \(bind: migration.version)").first()
                guard done == nil else { return false }
                try await migration.apply(db)
                try await db.raw(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Date.now.epochSeconds))"
                ).run()
                return true
            }
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

    /// Runs `body` in a write transaction that also raises the content version.
    func writeContent<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await engine.write { db in
            let result = try await body(db)
            try await db.raw("UPDATE site_state SET content_version = content_version + 1 WHERE id = 1").run()
            return result
        }
    }
}

extension Date {
    /// Whole seconds since 1970, as stored in the database.
    var epochSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }

    init(epochSeconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(epochSeconds))
    }
}
