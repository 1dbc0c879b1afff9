import Foundation
import SQLKit

/// State that every instance on the database must see the same way: forms accepted once, what a
/// client did lately (for rate limits), and tip keys unlocked for a session. Clients are named
/// here only as the caller names them (a short keyed hash of an address, or an account number),
/// sessions only by hashes of their tokens.
extension Store {
    /// Accepts the token with this hash once until `expiresAt`: true the first time on any
    /// instance, false after. Expired entries are swept as it goes.
    public func useOnce(tokenHash: String, until expiresAt: Date, now: Date = .now) async throws -> Bool {
        try await engine.write { db in
            try await db.raw("DELETE FROM used_token WHERE expires_at <= \(bind: now.epochSeconds)").run()
            return try await db.raw("""
                INSERT INTO used_token (token_hash, expires_at) VALUES (\(bind: tokenHash), \(bind: expiresAt.epochSeconds))
                ON CONFLICT (token_hash) DO NOTHING RETURNING token_hash
                """).first() != nil
        }
    }

    /// Client events are kept this long at most (rate-limit windows are shorter).
    static let clientEventLifetime: TimeInterval = 86_400

    /// The times of `client`'s `kind` events at or after `since`, oldest first.
    public func clientEvents(kind: String, client: String, since: Date) async throws -> [Date] {
        try await Self.clientEvents(kind: kind, client: client, since: since, in: engine.reader)
    }

    private static func clientEvents(kind: String, client: String, since: Date, in db: any SQLDatabase) async throws -> [Date] {
        try await db.raw("""
            SELECT at FROM client_event WHERE kind = \(bind: kind) AND client = \(bind: client) AND at >= \(bind: since.epochSeconds) ORDER BY at
            """).all().map { Date(epochSeconds: try $0.decode(column: "at", as: Int64.self)) }
    }

    /// Forgets every `kind` event dated before `before` (events of any kind older than a day go too).
    public func sweepClientEvents(kind: String, before: Date, now: Date = .now) async throws {
        try await engine.write { db in
            try await db.raw("""
                DELETE FROM client_event WHERE (kind = \(bind: kind) AND at < \(bind: before.epochSeconds))
                  OR at < \(bind: now.addingTimeInterval(-Self.clientEventLifetime).epochSeconds)
                """).run()
        }
    }

    /// Records a `kind` event of `client` at `at` unless it already has `limit` of them since
    /// `since` (no limit when nil); returns the events since `since`, this one included, or nil
    /// when refused. The client's earlier `kind` events, which no longer count, are forgotten.
    /// Checked and recorded in one transaction, so instances never both get the last one.
    @discardableResult
    public func recordClientEvent(kind: String, client: String, at: Date = .now, since: Date, limit: Int? = nil, now: Date = .now) async throws -> [Date]? {
        try await engine.write { db in
            try await db.raw("""
                DELETE FROM client_event WHERE (kind = \(bind: kind) AND client = \(bind: client) AND at < \(bind: since.epochSeconds))
                  OR at < \(bind: now.addingTimeInterval(-Self.clientEventLifetime).epochSeconds)
                """).run()
            let earlier = try await Self.clientEvents(kind: kind, client: client, since: since, in: db)
            if let limit, earlier.count >= limit { return nil }
            try await db.raw("""
                INSERT INTO client_event (kind, client, at) VALUES (\(bind: kind), \(bind: client), \(bind: at.epochSeconds))
                """).run()
            return earlier + [at]
        }
    }

    /// Forgets `client`'s `kind` events (a right passphrase ends the count of wrong ones).
    public func forgetClientEvents(kind: String, client: String) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM client_event WHERE kind = \(bind: kind) AND client = \(bind: client)").run()
        }
    }

    /// Keeps a sealed tip key for the session with this hash until `expiresAt`.
    public func saveTipUnlock(sessionHash: String, sealedKey: Data, until expiresAt: Date, now: Date = .now) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM tip_unlock WHERE expires_at <= \(bind: now.epochSeconds)").run()
            try await db.raw("""
                INSERT INTO tip_unlock (session_hash, sealed_key, expires_at) VALUES (\(bind: sessionHash), \(bind: sealedKey), \(bind: expiresAt.epochSeconds))
                ON CONFLICT (session_hash) DO UPDATE SET sealed_key = excluded.sealed_key, expires_at = excluded.expires_at
                """).run()
        }
    }

    /// The sealed tip key of the session with this hash, while it lasts.
    public func tipUnlock(sessionHash: String, now: Date = .now) async throws -> Data? {
        try await engine.reader.raw("""
            SELECT sealed_key FROM tip_unlock WHERE session_hash = \(bind: sessionHash) AND expires_at > \(bind: now.epochSeconds)
            """).first()?.decode(column: "sealed_key", as: Data.self)
    }

    /// Forgets the session's unlocked tip key (signing out, locking again).
    public func deleteTipUnlock(sessionHash: String) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM tip_unlock WHERE session_hash = \(bind: sessionHash)").run()
        }
    }
}
