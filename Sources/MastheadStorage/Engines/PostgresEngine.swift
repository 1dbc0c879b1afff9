@preconcurrency import AsyncKit
import Foundation
import Logging
import MastheadCore
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit

/// The PostgreSQL engine: a pool of connections shared by reads and writes, for several
/// instances on one database.
///
/// Every write transaction runs SERIALIZABLE: PostgreSQL then guarantees that the outcome is one
/// some order of the transactions one at a time would give, so the store's read-then-write steps
/// (a version-checked save, the scheduler taking due stories, a find-or-create, a counter) stay
/// as correct across instances as SQLite's single writer makes them on one machine. A
/// transaction that loses such a race is rolled back and run again from the start, against what
/// the winner wrote: a second save from the same version then sees the new version and reports
/// the conflict.
///
/// PostgreSQL-specific SQL lives here and in `PostgresSearch`, nowhere else.
final class PostgresEngine: DatabaseEngine {
    private let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    private let logger: Logger
    let reader: any SQLDatabase

    /// Connections per event loop (the process has one loop per core).
    static let connectionsPerLoop = 4
    /// How long a request waits for a connection or for the server to answer a connect, so a
    /// write during an outage fails with a clear error instead of hanging.
    static let connectTimeout = TimeAmount.seconds(3)
    /// How often a transaction that lost a serialization race is tried again.
    static let attempts = 8

    private init(pool: EventLoopGroupConnectionPool<PostgresConnectionSource>, logger: Logger) {
        self.pool = pool
        self.logger = logger
        // Queries are never logged: their bound values hold tokens, secrets and readers' searches.
        self.reader = PostgresReader(pool: pool, logger: logger)
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database?sslmode=…`).
    static func open(url: String, logger: Logger) async throws -> PostgresEngine {
        var configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw MastheadError(
                .configuration, "database URL \(DatabaseURL.redacted(url)) is not a PostgreSQL address; write e.g. postgres://masthead:secret@127.0.0.1:5432/masthead?sslmode=require",
                location: .init(field: "database_url"))
        }
        configuration.coreConfiguration.options.connectTimeout = connectTimeout
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: connectionsPerLoop,
            requestTimeout: connectTimeout + .seconds(1),
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton)
        let engine = PostgresEngine(pool: pool, logger: logger)
        do {
            let connection = try await pool.requestConnection(logger: logger).get()
            pool.releaseConnection(connection, logger: logger)
        } catch {
            await engine.close()
            throw MastheadError(.storage, "cannot connect to the PostgreSQL database \(DatabaseURL.redacted(url)): \(Self.describe(error))")
        }
        return engine
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await transaction(body)
            } catch let error as PSQLError where Self.isSerializationFailure(error) {
                guard attempt < Self.attempts else { throw Self.busy }
                attempt += 1
                // A little random wait so two instances that collided do not collide again.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            } catch let error as PSQLError {
                throw Self.fault(error)
            }
        }
    }

    /// PostgreSQL checks references when a transaction commits whatever it dropped on the way.
    func writeRebuildingTables<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await write(body)
    }

    /// How long a write waits for another transaction's locks (a long import) before giving up.
    static let lockTimeout = "30s"

    private func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { pool.releaseConnection(connection, logger: logger) }
        let db = connection.sql(queryLogLevel: nil)
        try await db.raw("BEGIN ISOLATION LEVEL SERIALIZABLE").run()
        do {
            try await db.raw("SET LOCAL lock_timeout = '\(unsafeRaw: Self.lockTimeout)'").run()
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            if !connection.isClosed {
                do {
                    try await db.raw("ROLLBACK").run()
                } catch {
                    // A connection whose transaction may still be open must not serve anyone else.
                    logger.error("rollback failed; closing the connection", metadata: ["masthead.error": "\(Self.describe(error))"])
                    try? await connection.close()
                }
            }
            throw error
        }
    }

    /// The advisory lock migrations hold (any number; this one spells "MASTHEAD").
    static let migrationLock: Int64 = 0x4D41_5354_4845_4144

    /// Holds a session-wide advisory lock on a connection of its own while `body` runs (on
    /// other connections); other instances starting at the same time wait for it.
    func withMigrationLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { pool.releaseConnection(connection, logger: logger) }
        let session = connection.sql(queryLogLevel: nil)
        try await session.raw("SELECT pg_advisory_lock(\(bind: Self.migrationLock))").run()
        do {
            let result = try await body()
            try await session.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
            return result
        } catch {
            _ = try? await session.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
            throw error
        }
    }

    private func lease() async throws -> PostgresConnection {
        do {
            return try await pool.requestConnection(logger: logger).get()
        } catch {
            throw MastheadError.databaseUnavailable
        }
    }

    static func isSerializationFailure(_ error: PSQLError) -> Bool {
        // 40001 serialization_failure, 40P01 deadlock_detected.
        let state = error.serverInfo?[.sqlState]
        return state == "40001" || state == "40P01"
    }

    /// A write that kept losing races with other instances, or waited too long for their locks.
    static let busy = MastheadError(
        .unavailable, "the database is busy with other changes just now, so nothing was changed; try again in a moment")

    /// Errors that mean the connection to the server is gone (or never came).
    static let connectionCodes: [PSQLError.Code] = [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown]

    /// PostgreSQL's errors as the store's clear errors: a full disk, a read-only server, a lost
    /// connection, a busy database. Others name their SQLSTATE and constraint but not the
    /// server's message, which may repeat a bound value.
    static func fault(_ error: PSQLError) -> MastheadError {
        guard let server = error.serverInfo else {
            if connectionCodes.contains(error.code) { return MastheadError.databaseUnavailable }
            return MastheadError(.storage, "the database connection failed (\(describe(error)))")
        }
        switch server[.sqlState] ?? "" {
        case "53100": return MastheadError.diskFull  // disk_full
        case "25006": return MastheadError.readOnly  // read_only_sql_transaction (a replica)
        case "22021":  // character_not_in_repertoire: a NUL in a bound value
            return MastheadError(.invalidInput, "text with a NUL character (\\0) in it cannot be stored or searched for")
        case "55P03", "40001", "40P01": return busy  // lock_not_available (lock_timeout), a lost race
        case let state where state.hasPrefix("08") || state.hasPrefix("57P"):
            // A connection lost, or the server shutting down or starting up.
            return MastheadError.databaseUnavailable
        case let state:
            let constraint = server[.constraintName].map { ", constraint \($0)" } ?? ""
            return MastheadError(.storage, "the database refused a statement (SQLSTATE \(state)\(constraint))")
        }
    }

    /// An error in words for the operator (at start-up): the server's message, or what failed
    /// on the way to it. Never the query or its bound values.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let server = error.serverInfo { return "\(server[.message] ?? "an error") (SQLSTATE \(server[.sqlState] ?? "?"))" }
            return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }

    /// One connection in one read-only REPEATABLE READ transaction.
    func withSnapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { pool.releaseConnection(connection, logger: logger) }
        let db = connection.sql(queryLogLevel: nil)
        do {
            try await db.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch let error as PSQLError {
            _ = try? await db.raw("ROLLBACK").run()
            throw Self.fault(error)
        } catch {
            _ = try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    func catalog() async throws -> [TableInfo] {
        let names = try await reader.raw("""
            SELECT table_name::text AS name FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name
            """).all().map { try $0.decode(column: "name", as: String.self) }
        var tables: [TableInfo] = []
        for name in names {
            let columns = try await reader.raw("""
                SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(bind: name) ORDER BY ordinal_position
                """).all().map { row -> (name: String, kind: TableInfo.Kind) in
                    let type = try row.decode(column: "type", as: String.self)
                    let kind: TableInfo.Kind = switch type {
                    case "bigint", "integer", "smallint": .integer
                    case "boolean": .boolean
                    case "bytea": .blob
                    case "real", "double precision", "numeric": .real
                    default: .text
                    }
                    return (try row.decode(column: "name", as: String.self), kind)
                }
            let key = try await reader.raw("""
                SELECT a.attname::text AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = \(bind: name)::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)
                """).all().map { try $0.decode(column: "name", as: String.self) }
            let parents = try await reader.raw("""
                SELECT confrelid::regclass::text AS parent FROM pg_constraint WHERE conrelid = \(bind: name)::regclass AND contype = 'f'
                """).all().map { try $0.decode(column: "parent", as: String.self) }
            tables.append(TableInfo(name: name, columns: columns, primaryKey: key, parents: Set(parents)))
        }
        return tables
    }

    /// Identity columns' sequences go on after the largest id copied.
    func continueIdentities(_ db: any SQLDatabase, tables: [TableInfo]) async throws {
        for table in tables {
            let identities = try await db.raw("""
                SELECT column_name::text AS name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(bind: table.name) AND is_identity = 'YES'
                """).all().map { try $0.decode(column: "name", as: String.self) }
            for column in identities {
                try await db.raw("""
                    SELECT setval(pg_get_serial_sequence(\(bind: table.name), \(bind: column)), COALESCE(MAX(\(ident: column)), 1), MAX(\(ident: column)) IS NOT NULL) FROM \(ident: table.name)
                    """).run()
            }
        }
    }

    func close() async {
        do {
            try await pool.shutdownAsync()
        } catch ConnectionPoolError.shutdown {
            // Closed already.
        } catch {
            logger.warning("closing PostgreSQL connections: \(error)")
        }
    }
}

/// Reads, each on whichever pooled connection is free.
struct PostgresReader: SQLDatabase {
    let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    let logger: Logger

    var eventLoop: any EventLoop { pool.eventLoopGroup.any() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { PostgresDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        pool.database(logger: logger).sql(queryLogLevel: nil).execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        do {
            try await pool.database(logger: logger).sql(queryLogLevel: nil).execute(sql: query, onRow)
        } catch let error as PSQLError {
            throw PostgresEngine.fault(error)
        } catch let error as MastheadError {
            throw error
        } catch {
            // Anything else on the way to the server (a pool timeout, a refused connection).
            throw MastheadError.databaseUnavailable
        }
    }
}

/// Creating and dropping whole databases on a PostgreSQL server (for throwaway test sites).
public enum PostgresDatabases {
    /// Creates a new, empty database on the server of `serverURL` (a URL naming any database the
    /// user may connect to) and returns the URL of the new one.
    public static func create(on serverURL: String, logger: Logger) async throws -> String {
        let name = "masthead_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await onServer(serverURL, logger: logger) { db in
            try await db.raw("CREATE DATABASE \(ident: name)").run()
        }
        guard var parts = URLComponents(string: serverURL) else { throw MastheadError(.configuration, "not a URL: \(DatabaseURL.redacted(serverURL))") }
        parts.path = "/" + name
        return parts.string ?? serverURL
    }

    /// Drops the database `url` names, ending its other sessions first.
    public static func drop(_ url: String, logger: Logger) async throws {
        guard let parts = URLComponents(string: url) else { return }
        let name = String(parts.path.dropFirst())
        var server = parts
        server.path = "/postgres"
        try await onServer(server.string ?? url, logger: logger) { db in
            try await db.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
        }
    }

    private static func onServer(_ url: String, logger: Logger, _ body: @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let engine = try await PostgresEngine.open(url: url, logger: logger)
        do {
            try await body(engine.reader)
            await engine.close()
        } catch {
            await engine.close()
            throw error
        }
    }
}
