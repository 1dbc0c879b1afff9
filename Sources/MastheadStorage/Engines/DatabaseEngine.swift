import SQLKit

/// One SQL engine under the store. Everything that differs between engines lives behind this
/// protocol, in the `Engines/` folder: how to connect, how a write transaction begins, pragmas.
/// All other SQL in the store is standard and shared.
protocol DatabaseEngine: Sendable {
    /// A database for reads; concurrent reads are fine.
    var reader: any SQLDatabase { get }
    /// Runs `body` in one write transaction: committed if it returns, rolled back if it throws.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Like ``write(_:)``, for a migration that drops and recreates a table others refer to:
    /// dropping it must not delete what refers to it, and every reference must hold at the end.
    func writeRebuildingTables<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` (migrations) while no other process connected to the database does the same.
    func withMigrationLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
    /// Runs `body` with reads that all see the database as it was when it began.
    func withSnapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// The schema's tables (the engine's internal ones left out), for copying a site.
    func catalog() async throws -> [TableInfo]
    /// After rows were copied with their ids, makes ids generated later continue after them.
    func continueIdentities(_ db: any SQLDatabase, tables: [TableInfo]) async throws
    /// Closes all connections.
    func close() async
}

/// A first-come, first-served lock for async code: one holder at a time, waiters resume in order.
actor AsyncLock {
    private var isHeld = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !isHeld {
            isHeld = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            isHeld = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// Runs `body` while holding the lock.
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }
}

/// One table as the engine describes it, for copying a site between databases.
struct TableInfo: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case integer, real, text, blob, boolean }
    var name: String
    var columns: [(name: String, kind: Kind)]
    var primaryKey: [String]
    /// Tables this one's foreign keys reference.
    var parents: Set<String>

    static func == (a: TableInfo, b: TableInfo) -> Bool {
        a.name == b.name && a.columns.map(\.name) == b.columns.map(\.name) && a.primaryKey == b.primaryKey && a.parents == b.parents
    }

    /// Whether the table belongs to the engine's own search index (rebuilt, not copied).
    var isSearchIndex: Bool { name == "article_search" || name.hasPrefix("article_search_") }
}
