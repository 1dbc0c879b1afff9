import Foundation
import Logging
import MastheadCore
import SQLiteKit

/// The SQLite engine: one writer connection behind a lock and one reader connection, on a file in
/// WAL mode so that readers never wait for the writer and another process (the CLI importing while
/// the server runs) can write too.
///
/// SQLite-specific SQL lives here and nowhere else.
final class SQLiteEngine: DatabaseEngine {
    private let writerConnection: SQLiteConnection
    private let readerConnection: SQLiteConnection
    private let writeLock = AsyncLock()
    private let logger: Logger
    let reader: any SQLDatabase
    private let writer: any SQLDatabase

    private init(writer: SQLiteConnection, reader: SQLiteConnection, logger: Logger) {
        self.writerConnection = writer
        self.readerConnection = reader
        self.logger = logger
        // Queries are never logged: their bound values hold tokens, secrets and readers' searches.
        self.writer = writer.sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
        self.reader = reader.sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
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
        let writer: SQLiteConnection
        let reader: SQLiteConnection
        do {
            writer = try await SQLiteConnection.open(storage: .file(path: path), logger: connectionLogger)
            reader = try await SQLiteConnection.open(storage: .file(path: path), logger: connectionLogger)
        } catch {
            throw MastheadError(.storage, "cannot open the SQLite database \(path): \(error)")
        }
        let engine = SQLiteEngine(writer: writer, reader: reader, logger: logger)
        // WAL lets readers (this process's and others') go on while one writer writes;
        // busy_timeout makes a writer wait for another process's transaction instead of failing.
        try await engine.writer.raw("PRAGMA journal_mode = WAL").run()
        for database in [engine.writer, engine.reader] {
            try await database.raw("PRAGMA busy_timeout = 10000").run()
            try await database.raw("PRAGMA foreign_keys = ON").run()
            try await database.raw("PRAGMA synchronous = NORMAL").run()
        }
        return engine
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let writer = self.writer
        return try await writeLock.withLock {
            // IMMEDIATE takes the write lock at once, so two processes never deadlock upgrading.
            try await writer.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(writer)
                try await writer.raw("COMMIT").run()
                return result
            } catch {
                do { try await writer.raw("ROLLBACK").run() } catch { self.logger.error("rollback failed: \(error)") }
                throw error
            }
        }
    }

    func close() async {
        for connection in [writerConnection, readerConnection] {
            do { try await connection.close() } catch { logger.warning("closing SQLite connection: \(error)") }
        }
    }
}
