import Crypto
import Foundation
import MastheadCore
import SQLKit

/// Moves a whole site from one database to another — SQLite to PostgreSQL or back — with
/// nothing lost: into an empty database only, every table in one transaction, and committed only
/// when each table's row count and a checksum of its content read back from the target match the
/// source. The search index is built anew on the target (each engine has its own).
public struct DatabaseCopy: Sendable {
    /// What was copied of one table.
    public struct Table: Sendable, Equatable {
        public var name: String
        public var rows: Int
        /// SHA-256 of the table's rows in key order, each value written the same way whatever the engine.
        public var checksum: String
    }

    let source: Store
    let target: Store

    public init(from source: Store, to target: Store) {
        self.source = source
        self.target = target
    }

    /// Tables that only the target's migrations fill (`schema_migration`) are left as they are.
    static let ownedByTarget: Set<String> = ["schema_migration"]
    /// Tables migrations give a row of their own, replaced by the source's.
    static let seeded: Set<String> = ["site_state"]
    /// Rows read and written at a time.
    static let pageSize = 500

    /// Copies everything; `progress` hears rows done of rows in all. Both stores must be at this
    /// version's schema. The source is read as one snapshot, so a writer that slipped in during
    /// the copy changes nothing of what is copied.
    public func run(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> [Table] {
        let tables = try await plan()
        let targetEngine = target.engine
        return try await source.engine.withSnapshot { source in
            var counted = 0
            for table in tables {
                counted += try await source.raw("SELECT COUNT(*) AS n FROM \(ident: table.name)").first()?.decode(column: "n", as: Int.self) ?? 0
            }
            let total = counted
            return try await targetEngine.write { db in
                // Checked in the transaction that copies: nothing can slip in between.
                try await Self.refuseUnlessEmpty(tables, db)
                for table in Self.seeded where tables.contains(where: { $0.name == table }) {
                    try await db.raw("DELETE FROM \(ident: table)").run()
                }
                var done = 0
                var copied: [Table] = []
                for table in tables {
                    copied.append(try await Self.checksum(of: table, in: source) { page in
                        try await Self.insert(page, into: table, db)
                        done += page.count
                        progress(done, total)
                    })
                }
                try await targetEngine.continueIdentities(db, tables: tables)
                try await Self.rebuildSearch(db)
                // Read back within the transaction: a difference undoes the whole copy.
                for (table, expected) in zip(tables, copied) {
                    let found = try await Self.checksum(of: table, in: db)
                    guard found == expected else {
                        throw MastheadError(
                            .storage, "the copy of table \(table.name) differs from the source (\(found.rows) rows read back, \(expected.rows) copied); nothing was copied")
                    }
                }
                return copied
            }
        }
    }

    /// The table's row count and checksum in `db`, handing each page of rows to `each` on the way.
    static func checksum(of table: TableInfo, in db: any SQLDatabase, each: ([[Value]]) async throws -> Void = { _ in }) async throws -> Table {
        var hash = SHA256()
        var rows = 0
        try await eachPage(of: table, in: db) { page in
            for row in page { digest(row, into: &hash) }
            rows += page.count
            try await each(page)
        }
        return Table(name: table.name, rows: rows, checksum: Data(hash.finalize()).hexEncoded)
    }

    /// The tables to copy, parents before children; refuses differing schemas.
    func plan() async throws -> [TableInfo] {
        for (store, role) in [(source, "source"), (target, "target")] {
            let version = try await store.engine.reader.raw("SELECT MAX(version) AS v FROM schema_migration").first()?.decode(column: "v", as: Int?.self) ?? 0
            guard version == Store.schemaVersion else {
                throw MastheadError(
                    .storage, version < Store.schemaVersion
                        ? "the \(role) database is at schema version \(version), this Masthead's is \(Store.schemaVersion): run 'masthead migrate' on it first"
                        : "the \(role) database is from a newer Masthead (schema version \(version)); copy it with that version")
            }
        }
        let from = try await source.engine.catalog().filter { !$0.isSearchIndex && !Self.ownedByTarget.contains($0.name) }
        let to = try await target.engine.catalog().filter { !$0.isSearchIndex && !Self.ownedByTarget.contains($0.name) }
        let sourceByName = Dictionary(uniqueKeysWithValues: from.map { ($0.name, $0) })
        for table in to {
            guard let theirs = sourceByName[table.name] else {
                throw MastheadError(.storage, "the source database has no table \(table.name): run 'masthead migrate' on it with this version first")
            }
            guard Set(theirs.columns.map(\.name)) == Set(table.columns.map(\.name)), theirs.primaryKey == table.primaryKey else {
                throw MastheadError(.storage, "table \(table.name) has other columns in the source than in the target: run 'masthead migrate' on the source with this version first")
            }
        }
        if let extra = from.first(where: { table in !to.contains { $0.name == table.name } }) {
            throw MastheadError(.storage, "the source database has a table the target lacks (\(extra.name)): is the source from a newer version of Masthead?")
        }
        return try Self.parentsFirst(to)
    }

    /// Refuses a target whose tables (other than those migrations fill) hold any row, naming them.
    static func refuseUnlessEmpty(_ tables: [TableInfo], _ db: any SQLDatabase) async throws {
        var holding: [String] = []
        for table in tables where !seeded.contains(table.name) {
            if try await db.raw("SELECT 1 AS one FROM \(ident: table.name) LIMIT 1").first() != nil { holding.append(table.name) }
        }
        guard holding.isEmpty else {
            throw MastheadError(
                .invalidInput, "the target database is not empty (\(holding.joined(separator: ", ")) hold rows); copy into a new, empty database")
        }
    }

    /// `tables` ordered so that every table comes after the tables it references.
    static func parentsFirst(_ tables: [TableInfo]) throws -> [TableInfo] {
        var ordered: [TableInfo] = []
        var placed = Set<String>()
        var waiting = tables
        let names = Set(tables.map(\.name))
        while !waiting.isEmpty {
            let ready = waiting.filter { $0.parents.subtracting([$0.name]).intersection(names).isSubset(of: placed) }
            guard !ready.isEmpty else {
                throw MastheadError(.storage, "tables \(waiting.map(\.name).joined(separator: ", ")) reference each other in a circle; they cannot be copied in order")
            }
            ordered += ready
            placed.formUnion(ready.map(\.name))
            waiting.removeAll { placed.contains($0.name) }
        }
        return ordered
    }

    /// One value, as any engine gives it back.
    enum Value: Sendable, Equatable {
        case null, integer(Int64), real(Double), text(String), blob(Data)
    }

    /// Runs `body` on the table's rows, a page at a time, in primary-key order.
    static func eachPage(of table: TableInfo, in db: any SQLDatabase, _ body: ([[Value]]) async throws -> Void) async throws {
        let columns = table.columns
        let keyIndexes = table.primaryKey.compactMap { key in columns.firstIndex { $0.name == key } }
        guard !keyIndexes.isEmpty, keyIndexes.count == table.primaryKey.count else {
            throw MastheadError(.storage, "table \(table.name) has no primary key to copy it in order")
        }
        // Text keys in byte order on every engine (PostgreSQL would otherwise sort by the
        // database's locale), so both sides list rows alike.
        let bytewise = db.dialect.name == PostgresSearch.dialectName
        let key = list(keyIndexes.map { index -> SQLQueryString in
            columns[index].kind == .text && bytewise ? "\(ident: columns[index].name) COLLATE \"C\"" : "\(ident: columns[index].name)"
        })
        var last: [Value]?
        while true {
            var query: SQLQueryString = "SELECT "
            for (index, column) in columns.enumerated() { query += (index > 0 ? ", " : "") + "\(ident: column.name)" }
            query += " FROM \(ident: table.name)"
            if let last {
                query += " WHERE (" + key + ") > (" + list(keyIndexes.map { bind(last[$0]) }) + ")"
            }
            query += " ORDER BY " + key + " LIMIT \(bind: pageSize)"
            let page = try await db.raw(query).all().map { row in
                try columns.map { column in try decode(row, column: column.name, kind: column.kind) }
            }
            if page.isEmpty { return }
            try await body(page)
            if page.count < pageSize { return }
            last = page.last
        }
    }

    private static func decode(_ row: any SQLRow, column: String, kind: TableInfo.Kind) throws -> Value {
        switch kind {
        case .integer: return try row.decode(column: column, as: Int64?.self).map { .integer($0) } ?? .null
        case .boolean:
            // PostgreSQL has booleans; SQLite keeps them as integers.
            do {
                return try row.decode(column: column, as: Bool?.self).map { .integer($0 ? 1 : 0) } ?? .null
            } catch {
                return try row.decode(column: column, as: Int64?.self).map { .integer($0) } ?? .null
            }
        case .real: return try row.decode(column: column, as: Double?.self).map { .real($0) } ?? .null
        case .text: return try row.decode(column: column, as: String?.self).map { .text($0) } ?? .null
        case .blob: return try row.decode(column: column, as: Data?.self).map { .blob($0) } ?? .null
        }
    }

    private static func bind(_ value: Value, as kind: TableInfo.Kind? = nil) -> SQLQueryString {
        switch value {
        case .null: return "NULL"
        case .integer(let number): return kind == .boolean ? "\(bind: number != 0)" : "\(bind: number)"
        case .real(let number): return "\(bind: number)"
        case .text(let text): return "\(bind: text)"
        case .blob(let data): return "\(bind: data)"
        }
    }

    private static func list(_ parts: [SQLQueryString]) -> SQLQueryString {
        var joined: SQLQueryString = ""
        for (index, part) in parts.enumerated() { joined += (index > 0 ? ", " : "") + part }
        return joined
    }

    private static func insert(_ rows: [[Value]], into table: TableInfo, _ db: any SQLDatabase) async throws {
        // PostgreSQL takes at most 65,535 bound values a statement.
        let perStatement = max(1, 30_000 / max(1, table.columns.count))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            var query: SQLQueryString = "INSERT INTO \(ident: table.name) (" + list(table.columns.map { "\(ident: $0.name)" }) + ") VALUES "
            for (index, row) in rows[start..<min(start + perStatement, rows.count)].enumerated() {
                query += (index > 0 ? ", (" : "(") + list(zip(row, table.columns).map { bind($0, as: $1.kind) }) + ")"
            }
            try await db.raw(query).run()
        }
    }

    /// Writes one row into `hash` the same way whichever engine it came from.
    static func digest(_ row: [Value], into hash: inout SHA256) {
        for value in row {
            switch value {
            case .null: hash.update(data: Data("n;".utf8))
            case .integer(let number): hash.update(data: Data("i\(number);".utf8))
            case .real(let number): hash.update(data: Data("r\(number);".utf8))
            case .text(let text): hash.update(data: Data("t\(text.utf8.count):".utf8) + Data(text.utf8))
            case .blob(let data): hash.update(data: Data("b\(data.count):".utf8) + data)
            }
        }
        hash.update(data: Data("\n".utf8))
    }

    /// Indexes every article for the target engine's search.
    static func rebuildSearch(_ db: any SQLDatabase) async throws {
        let index = db.searchIndex
        var after: Int64 = 0
        while true {
            let rows = try await db.raw("""
                SELECT id, title, summary, body_html FROM article WHERE id > \(bind: after) ORDER BY id LIMIT \(bind: pageSize)
                """).all()
            guard !rows.isEmpty else { return }
            let articles = try rows.map { row in
                (id: try row.decode(column: "id", as: Int64.self), title: try row.decode(column: "title", as: String.self),
                 summary: try row.decode(column: "summary", as: String.self), bodyHTML: try row.decode(column: "body_html", as: String.self))
            }
            try await index.indexNew(db, articles)
            after = articles.last!.id
        }
    }
}
