import Foundation
import Logging
import MastheadCore
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization
import VaporCSQLite

/// A reader connection that keeps its prepared statements. Readers ask the same few queries over
/// and over (a story page is six of them), and SQLite spends longer parsing and planning a query
/// than running it on indexes; here each query text is prepared once per connection and reused.
/// A query runs whole in one go on the engine's threads, its rows read out before it returns, so
/// the calling task waits for one hand-over instead of one per row.
final class SQLiteReadConnection: SQLDatabase, Sendable {
    private struct Handle: @unchecked Sendable {
        var connection: OpaquePointer?
        /// Prepared statements by query text, with their columns' names (read once).
        var statements: [String: (statement: OpaquePointer, columns: SQLiteReadRow.Columns)] = [:]
    }

    /// Statements kept per connection; past it they are all finalized, and prepared again as asked.
    static let statementLimit = 200

    private let handle: Mutex<Handle>
    private let threads: NIOThreadPool
    let logger: Logger
    let eventLoop: any EventLoop
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }
    private let path: String

    private init(connection: OpaquePointer, path: String, threads: NIOThreadPool, logger: Logger) {
        handle = Mutex(Handle(connection: connection))
        self.path = path
        self.threads = threads
        self.logger = logger
        eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    static func open(path: String, threads: NIOThreadPool, logger: Logger) async throws -> SQLiteReadConnection {
        try await threads.runIfActive {
            var connection: OpaquePointer?
            let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
            let status = sqlite_nio_sqlite3_open_v2(path, &connection, flags, nil)
            guard status == SQLITE_OK, let connection else {
                let message = connection.flatMap { sqlite_nio_sqlite3_errmsg($0).map { String(cString: $0) } } ?? "error \(status)"
                sqlite_nio_sqlite3_close(connection)
                throw MastheadError(.storage, "cannot open the SQLite database \(path): \(message)")
            }
            return SQLiteReadConnection(connection: connection, path: path, threads: threads, logger: logger)
        }
    }

    func close() async {
        _ = try? await threads.runIfActive {
            self.handle.withLock { handle in
                for prepared in handle.statements.values { sqlite_nio_sqlite3_finalize(prepared.statement) }
                handle.statements = [:]
                sqlite_nio_sqlite3_close(handle.connection)
                handle.connection = nil
            }
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, binds) = serialize(query)
        let encoder = SQLiteDataEncoder()
        let values = try binds.map { try encoder.encode($0) }
        let rows = try await threads.runIfActive { try self.run(sql, values) }
        for row in rows { onRow(row) }
    }

    /// Prepares `sql` (or takes it from the cache), binds `values`, and reads every row.
    private func run(_ sql: String, _ values: [SQLiteData]) throws -> [SQLiteReadRow] {
        try handle.withLock { handle in
            guard let connection = handle.connection else { throw MastheadError(.storage, "the database connection is closed") }
            let statement: OpaquePointer
            let columns: SQLiteReadRow.Columns
            if let cached = handle.statements[sql] {
                (statement, columns) = cached
            } else {
                var prepared: OpaquePointer?
                let status = sqlite_nio_sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
                guard status == SQLITE_OK, let prepared else { throw error(connection, status) }
                if handle.statements.count >= Self.statementLimit {
                    for old in handle.statements.values { sqlite_nio_sqlite3_finalize(old.statement) }
                    handle.statements = [:]
                }
                let count = sqlite_nio_sqlite3_column_count(prepared)
                var names: [String: Int] = [:]
                for column in 0..<count {
                    let name = sqlite_nio_sqlite3_column_name(prepared, column).map { String(cString: $0) } ?? ""
                    if names[name] == nil { names[name] = Int(column) }
                }
                statement = prepared
                columns = SQLiteReadRow.Columns(names: names, count: count)
                handle.statements[sql] = (statement, columns)
            }
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                let status: Int32
                switch value {
                case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
                case .float(let number): status = sqlite_nio_sqlite3_bind_double(statement, index, number)
                case .text(let text): status = sqlite_nio_sqlite3_bind_text(statement, index, text, -1, Self.transient)
                case .blob(let buffer):
                    status = buffer.withUnsafeReadableBytes { bytes in
                        sqlite_nio_sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
                    }
                case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
                }
                guard status == SQLITE_OK else { throw error(connection, status) }
            }
            let count = columns.count
            var rows: [SQLiteReadRow] = []
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { break }
                guard status == SQLITE_ROW else { throw error(connection, status) }
                var values: [SQLiteData] = []
                values.reserveCapacity(Int(count))
                for column in 0..<count { values.append(Self.value(statement, column)) }
                rows.append(SQLiteReadRow(columns: columns, values: values))
            }
            return rows
        }
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard length > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, column) else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: length)))
        default: return .null
        }
    }

    /// SQLite copies a bound value it is given with this "destructor".
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func error(_ connection: OpaquePointer, _ status: Int32) -> MastheadError {
        let message = sqlite_nio_sqlite3_errmsg(connection).map { String(cString: $0) } ?? "error \(status)"
        return MastheadError(.storage, "SQLite could not read \(path): \(message) (code \(status))")
    }
}

/// A row a ``SQLiteReadConnection`` read: its values, and its columns' names shared by the query's rows.
struct SQLiteReadRow: SQLRow {
    final class Columns: Sendable {
        let names: [String: Int]
        let all: [String]
        /// The statement's columns, duplicate names included.
        let count: Int32
        init(names: [String: Int], count: Int32) {
            self.names = names
            self.count = count
            all = names.sorted { $0.value < $1.value }.map(\.key)
        }
    }

    let columns: Columns
    let values: [SQLiteData]

    var allColumns: [String] { columns.all }

    func contains(column: String) -> Bool { columns.names[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.names[column] else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let index = columns.names[column] else {
            throw DecodingError.keyNotFound(SQLiteReadRow.Key(column), .init(codingPath: [], debugDescription: "no column \(column) in the row"))
        }
        // The store's own types first, without the general decoder's machinery.
        switch values[index] {
        case .text(let text):
            if D.self == String.self { return text as! D }
            if D.self == String?.self { return String?.some(text) as! D }
        case .integer(let number):
            if D.self == Int64.self { return Int64(number) as! D }
            if D.self == Int.self { return number as! D }
            if D.self == Int64?.self { return Int64?.some(Int64(number)) as! D }
            if D.self == Int?.self { return Int?.some(number) as! D }
        case .null:
            if D.self == String?.self { return String?.none as! D }
            if D.self == Int64?.self { return Int64?.none as! D }
            if D.self == Int?.self { return Int?.none as! D }
        default:
            break
        }
        return try SQLiteDataDecoder().decode(D.self, from: values[index])
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
