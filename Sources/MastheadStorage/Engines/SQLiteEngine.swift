import Foundation
import Logging
import MastheadCore
import NIOPosix
import SQLiteKit
import NIOCore
import SQLKit
import Synchronization

/// The SQLite engine: one writer connection behind a lock and a pool of reader connections, on a
/// file in WAL mode so that readers never wait for the writer (nor for each other) and another
/// process (the CLI importing while the server runs) can write too. The connections run their
/// blocking calls on threads of their own, so a long image conversion elsewhere never holds up
/// a query.
///
/// SQLite-specific SQL lives here and nowhere else.
final class SQLiteEngine: DatabaseEngine {
    private let writerConnection: SQLiteConnection
    private let readerConnections: [SQLiteReadConnection]
    private let threads: NIOThreadPool
    private let writeLock = AsyncLock()
    private let logger: Logger
    private let readers: ReaderPool
    private let writer: any SQLDatabase

    /// Reads go to whichever reader connection is free.
    var reader: any SQLDatabase { readers }

    private init(writer: SQLiteConnection, readers: [SQLiteReadConnection], threads: NIOThreadPool, logger: Logger) {
        self.writerConnection = writer
        self.readerConnections = readers
        self.threads = threads
        self.logger = logger
        // Queries are never logged: their bound values hold tokens, secrets and readers' searches.
        self.writer = writer.sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
        self.readers = ReaderPool(readers)
    }

    /// Opens (creating if needed) the database file at `path`, and its folder.
    static func open(path: String, logger: Logger) async throws -> SQLiteEngine {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw MastheadError(.storage, "cannot create the database folder \(folder): \(error.localizedDescription)")
        }
        var connectionLogger = logger
        connectionLogger[metadataKey: "masthead.database"] = "\(path)"
        let readerCount = max(2, ProcessInfo.processInfo.activeProcessorCount * 2)
        let threads = NIOThreadPool(numberOfThreads: readerCount + 1)
        threads.start()
        let writer: SQLiteConnection
        var readers: [SQLiteReadConnection] = []
        do {
            writer = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threads, logger: connectionLogger, on: MultiThreadedEventLoopGroup.singleton.any())
            for _ in 0..<readerCount {
                readers.append(try await SQLiteReadConnection.open(path: path, threads: threads, logger: connectionLogger))
            }
        } catch {
            for reader in readers { await reader.close() }
            try? await threads.shutdownGracefully()
            throw MastheadError(.storage, "cannot open the SQLite database \(path): \(error)")
        }
        let engine = SQLiteEngine(writer: writer, readers: readers, threads: threads, logger: logger)
        do {
            // WAL lets readers (this process's and others') go on while one writer writes;
            // busy_timeout makes a writer wait for another process's transaction instead of failing.
            try await engine.writer.raw("PRAGMA journal_mode = WAL").run()
            for database in [engine.writer] + engine.readers.connections {
                try await database.raw("PRAGMA busy_timeout = 10000").run()
                try await database.raw("PRAGMA foreign_keys = ON").run()
                try await database.raw("PRAGMA synchronous = NORMAL").run()
                // 16 MB of pages per connection, kept between queries; temporary b-trees in memory.
                try await database.raw("PRAGMA cache_size = -16000").run()
                try await database.raw("PRAGMA temp_store = MEMORY").run()
            }
        } catch {
            await engine.close()
            let reason = fault(error).map(\.message) ?? "\(error)"
            throw MastheadError(fault(error)?.code ?? .storage, "cannot use the SQLite database \(path): \(reason)")
        }
        return engine
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(foreignKeysOff: false, body)
    }

    /// Foreign keys are turned off around the transaction (SQLite ignores the switch inside one),
    /// so that dropping a table deletes nothing that refers to it; the migration checks every
    /// reference before it ends (``moveArticleBodiesLast(_:)``), as SQLite's documentation prescribes
    /// for changing a table's layout.
    func writeRebuildingTables<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(foreignKeysOff: true, body)
    }

    private func transaction<T: Sendable>(foreignKeysOff: Bool, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let writer = self.writer
        return try await writeLock.withLock {
            guard foreignKeysOff else { return try await self.transaction(writer, body) }
            try await writer.raw("PRAGMA foreign_keys = OFF").run()
            do {
                guard try await writer.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) == 0 else {
                    throw MastheadError(.storage, "cannot turn foreign keys off to rebuild a table")
                }
                let result = try await self.transaction(writer, body)
                try await writer.raw("PRAGMA foreign_keys = ON").run()
                return result
            } catch {
                try? await writer.raw("PRAGMA foreign_keys = ON").run()
                throw error
            }
        }
    }

    private func transaction<T: Sendable>(_ writer: any SQLDatabase, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        // IMMEDIATE takes the write lock at once, so two processes never deadlock upgrading.
        do {
            try await writer.raw("BEGIN IMMEDIATE").run()
        } catch {
            throw Self.fault(error) ?? error
        }
        do {
            let result = try await body(writer)
            try await writer.raw("COMMIT").run()
            return result
        } catch {
            do { try await writer.raw("ROLLBACK").run() } catch { self.logger.error("rollback failed: \(error)") }
            throw Self.fault(error) ?? error
        }
    }

    /// Rewrites `article` with its bodies as the last columns. SQLite keeps a row's first bytes in
    /// the table's page and the rest in a chain of overflow pages, and reads a column by walking
    /// the chain up to it: with the bodies in the middle, reading a story's section or date (for
    /// related stories, lists) read its whole body first. Rowids, indexes and references stay.
    static func moveArticleBodiesLast(_ db: any SQLDatabase) async throws {
        let columns = """
            id, slug, title, summary, section_id, status, published_at, updated_at, modified_at, created_at, version, disclaimer,
            image_source, image_alt, image_caption, image_credit, image_width, image_height, seo_title, seo_description, canonical_url,
            created_by, modified_by, preview_token_hash, preview_expires_at, image_placeholder, body_html, body_markdown
            """
        let indexes = try await db.raw("SELECT sql FROM sqlite_master WHERE tbl_name = 'article' AND type IN ('index', 'trigger') AND sql IS NOT NULL")
            .all().map { try $0.decode(column: "sql", as: String.self) }
        try await db.raw("""
            CREATE TABLE article_rebuilt ("id" INTEGER PRIMARY KEY, "slug" TEXT NOT NULL UNIQUE, "title" TEXT NOT NULL,
              "summary" TEXT NOT NULL DEFAULT '', "section_id" INTEGER NOT NULL REFERENCES "section" ("id"), "status" TEXT NOT NULL,
              "published_at" INTEGER NOT NULL, "updated_at" INTEGER, "modified_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL,
              "version" INTEGER NOT NULL DEFAULT 1, "disclaimer" INTEGER NOT NULL DEFAULT 0, "image_source" TEXT,
              "image_alt" TEXT NOT NULL DEFAULT '', "image_caption" TEXT NOT NULL DEFAULT '', "image_credit" TEXT NOT NULL DEFAULT '',
              "image_width" INTEGER, "image_height" INTEGER, "seo_title" TEXT NOT NULL DEFAULT '', "seo_description" TEXT NOT NULL DEFAULT '',
              "canonical_url" TEXT NOT NULL DEFAULT '', "created_by" INTEGER REFERENCES "user_account" ("id") ON DELETE SET NULL,
              "modified_by" INTEGER REFERENCES "user_account" ("id") ON DELETE SET NULL, "preview_token_hash" TEXT,
              "preview_expires_at" INTEGER, "image_placeholder" TEXT, "body_html" TEXT NOT NULL, "body_markdown" TEXT NOT NULL)
            """).run()
        try await db.raw("INSERT INTO article_rebuilt (\(unsafeRaw: columns)) SELECT \(unsafeRaw: columns) FROM article").run()
        try await db.raw("DROP TABLE article").run()
        try await db.raw("ALTER TABLE article_rebuilt RENAME TO article").run()
        for sql in indexes { try await db.raw("\(unsafeRaw: sql)").run() }
        if let broken = try await db.raw("PRAGMA foreign_key_check").first() {
            let table = (try? broken.decode(column: "table", as: String.self)) ?? "?"
            throw MastheadError(.storage, "rebuilding the article table left a row of \(table) referring to nothing; nothing was changed")
        }
    }

    /// SQLite's own words for a full disk or a read-only database, as the store's clear errors.
    static func fault(_ error: any Error) -> MastheadError? {
        guard let error = error as? SQLiteError else { return MastheadError.storageFault(error) }
        switch error.reason {
        case .full: return .diskFull
        case .readOnly, .readonlyCantLock, .readonlyDirectory, .readonlyInRecovery, .readonlyInRollback, .readonlyBackingMoved:
            return .readOnly
        default: return nil
        }
    }

    /// Each migration checks and records itself inside its own `BEGIN IMMEDIATE` transaction,
    /// which already admits one process at a time.
    func withMigrationLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }

    /// One reader connection in one read transaction: WAL keeps its view fixed.
    func withSnapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await readers.withSession { db in
            try await db.raw("BEGIN").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    func catalog() async throws -> [TableInfo] {
        let names = try await reader.raw("""
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name
            """).all().map { try $0.decode(column: "name", as: String.self) }
        var tables: [TableInfo] = []
        for name in names {
            var columns: [(name: String, kind: TableInfo.Kind)] = []
            var key: [(Int, String)] = []
            for row in try await reader.raw("SELECT name, type, pk FROM pragma_table_info(\(bind: name))").all() {
                let column = try row.decode(column: "name", as: String.self)
                let type = try row.decode(column: "type", as: String.self).uppercased()
                // SQLite's own rules for a declared type's affinity.
                let kind: TableInfo.Kind = type.contains("INT") ? .integer
                    : type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") ? .text
                    : type.contains("BOOL") ? .boolean
                    : type.isEmpty || type.contains("BLOB") ? .blob : .real
                columns.append((column, kind))
                let position = try row.decode(column: "pk", as: Int.self)
                if position > 0 { key.append((position, column)) }
            }
            let parents = try await reader.raw("SELECT \"table\" AS parent FROM pragma_foreign_key_list(\(bind: name))").all()
                .map { try $0.decode(column: "parent", as: String.self) }
            tables.append(TableInfo(name: name, columns: columns, primaryKey: key.sorted { $0.0 < $1.0 }.map(\.1), parents: Set(parents)))
        }
        return tables
    }

    /// SQLite's AUTOINCREMENT counters follow inserted ids by themselves.
    func continueIdentities(_ db: any SQLDatabase, tables: [TableInfo]) async throws {}

    func close() async {
        do { try await writerConnection.close() } catch { logger.warning("closing SQLite connection: \(error)") }
        for connection in readerConnections { await connection.close() }
        try? await threads.shutdownGracefully()
    }
}

/// Reader connections handed out one query at a time. A connection must not run two queries at
/// once: while one statement is being stepped, a second on the same connection would share its
/// read transaction and see the database as it was when the first began — a story just saved,
/// or a session just made, would seem not to exist.
final class ReaderPool: SQLDatabase, Sendable {
    let connections: [any SQLDatabase]
    private let state: Mutex<(free: [Int], waiting: [CheckedContinuation<Int, Never>])>

    init(_ connections: [any SQLDatabase]) {
        self.connections = connections
        state = Mutex((Array(connections.indices), []))
    }

    var logger: Logger { connections[0].logger }
    var eventLoop: any EventLoop { connections[0].eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { connections[0].version }
    var dialect: any SQLDialect { connections[0].dialect }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let index = await acquire()
        defer { release(index) }
        try await connections[index].execute(sql: query, onRow)
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let index = await acquire()
        defer { release(index) }
        return try await closure(connections[index])
    }

    private func acquire() async -> Int {
        await withCheckedContinuation { continuation in
            let index: Int? = state.withLock { state in
                if let free = state.free.popLast() { return free }
                state.waiting.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = state.withLock { state in
            if state.waiting.isEmpty {
                state.free.append(index)
                return nil
            }
            return state.waiting.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
