import Foundation
import MastheadCore
import SQLKit

/// A signed-in browser: who it is and the token its forms must carry.
public struct SessionRecord: Sendable {
    public var user: User
    public var csrfToken: String
    public var expiresAt: Date
    /// The token its cookie holds (the database keeps only a hash of it): secrets kept for the
    /// session, such as an unlocked tip key, are sealed with a key derived from it.
    public var token: String = ""
}

/// What the sign-in throttle knows about one account name.
public struct LoginFailures: Sendable, Equatable {
    public var failures: Int
    public var lockedUntil: Date?
}

/// Random secrets for links and cookies: 32 bytes from the system's generator, URL-safe.
public enum SecretToken {
    /// Whether `text` could be a token this site made: URL-safe base64 of a sensible length.
    /// Anything else sent back by a client (a cookie, a form field) is not reused.
    public static func isWellFormed(_ text: String) -> Bool {
        (16...128).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
        }
    }

    public static func make(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }.base64URLEncoded
    }
}

extension Store {
    // MARK: Users

    static let userSelect: SQLQueryString =
        "SELECT id, email, name, role, author_id, disabled, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, created_at FROM user_account"

    static func user(_ row: any SQLRow) throws -> User {
        User(
            id: try row.decode(column: "id", as: Int64.self),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .contributor,
            authorID: try row.decode(column: "author_id", as: Int64?.self),
            isDisabled: try row.decode(column: "disabled", as: Int.self) != 0,
            hasPassword: try row.decode(column: "has_password", as: Int.self) != 0,
            createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
    }

    /// Creates an account, with a byline profile of the same name unless one is given. The
    /// password hash may be nil for an invited account. The first account can only be the owner's.
    public func addUser(email: String, name: String, role: Role, passwordHash: String?, authorID: Int64? = nil, now: Date = .now) async throws -> User {
        let email = User.normalizedEmail(email)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard User.isPlausibleEmail(email) else {
            throw MastheadError(.invalidInput, "'\(email)' is not an email address", location: .init(field: "email"))
        }
        guard !name.isEmpty, name.count <= 120 else {
            throw MastheadError(.invalidInput, "a name of 1 to 120 characters is needed", location: .init(field: "name"))
        }
        return try await writeContent { db in
            if try await db.raw("SELECT id FROM user_account WHERE email = \(bind: email)").first() != nil {
                throw MastheadError(.conflict, "there is already an account for \(email)", location: .init(field: "email"))
            }
            if role == .owner, try await db.raw("SELECT id FROM user_account WHERE role = 'owner'").first() != nil {
                throw MastheadError(.conflict, "the site already has an owner", location: .init(field: "role"))
            }
            let profile: Int64
            if let authorID {
                profile = authorID
            } else {
                profile = try await Self.ensureRow(table: "author", name: name, in: db)
            }
            guard let row = try await db.raw("""
                INSERT INTO user_account (email, name, role, password_hash, author_id, disabled, created_at)
                VALUES (\(bind: email), \(bind: name), \(bind: role.rawValue), \(bind: passwordHash), \(bind: profile), 0, \(bind: now.epochSeconds))
                RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting an account returned no id") }
            return User(
                id: try row.decode(column: "id", as: Int64.self), email: email, name: name, role: role, authorID: profile,
                isDisabled: false, hasPassword: passwordHash != nil, createdAt: now)
        }
    }

    public func users() async throws -> [User] {
        try await engine.reader.raw(Self.userSelect + " ORDER BY name, id").all().map(Self.user)
    }

    public func user(id: Int64) async throws -> User? {
        try await engine.reader.raw(Self.userSelect + " WHERE id = \(bind: id)").first().map(Self.user)
    }

    public func user(email: String) async throws -> User? {
        try await engine.reader.raw(Self.userSelect + " WHERE email = \(bind: User.normalizedEmail(email))").first().map(Self.user)
    }

    /// The stored bcrypt hash for the account named `email`, with the account; nil when none.
    public func credentials(email: String) async throws -> (user: User, passwordHash: String?)? {
        guard let row = try await engine.reader.raw(
            "SELECT id, email, name, role, author_id, disabled, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, created_at, password_hash FROM user_account WHERE email = \(bind: User.normalizedEmail(email))"
        ).first() else { return nil }
        return (try Self.user(row), try row.decode(column: "password_hash", as: String?.self))
    }

    /// Changes an account's role or disabled state. Disabling ends its sessions and revokes its keys' use.
    public func updateUser(id: Int64, role: Role, disabled: Bool) async throws {
        try await engine.write { db in
            guard let row = try await db.raw("SELECT role FROM user_account WHERE id = \(bind: id)").first() else {
                throw MastheadError(.notFound, "there is no account \(id)")
            }
            let current = Role(rawValue: try row.decode(column: "role", as: String.self))
            guard current != .owner || (role == .owner && !disabled) else {
                throw MastheadError(.forbidden, "the owner's account cannot be demoted or disabled", location: .init(field: "role"))
            }
            guard role != .owner || current == .owner else {
                throw MastheadError(.forbidden, "there is only one owner", location: .init(field: "role"))
            }
            try await db.raw("UPDATE user_account SET role = \(bind: role.rawValue), disabled = \(bind: disabled ? 1 : 0) WHERE id = \(bind: id)").run()
            // A disabled account's sessions and API keys end with it: a stolen key must not outlive the account.
            if disabled {
                try await db.raw("DELETE FROM user_session WHERE user_id = \(bind: id)").run()
                try await db.raw("DELETE FROM api_key WHERE user_id = \(bind: id)").run()
            }
        }
    }

    /// Sets a new password hash, ends every session of the account, revokes its API keys (a new
    /// password means the old secrets may be known to someone else) and clears its sign-in failures.
    public func setPasswordHash(userID: Int64, _ hash: String) async throws {
        try await engine.write { db in
            try await db.raw("UPDATE user_account SET password_hash = \(bind: hash) WHERE id = \(bind: userID)").run()
            try await db.raw("DELETE FROM user_session WHERE user_id = \(bind: userID)").run()
            try await db.raw("DELETE FROM api_key WHERE user_id = \(bind: userID)").run()
            try await db.raw("DELETE FROM user_token WHERE user_id = \(bind: userID)").run()
            try await db.raw("DELETE FROM login_failure WHERE email = (SELECT email FROM user_account WHERE id = \(bind: userID))").run()
        }
    }

    // MARK: One-time links

    /// A one-time token for `purpose` ("invite" or "reset") that lasts `lifetime`; only its hash is stored.
    public func createUserToken(userID: Int64, purpose: String, lifetime: TimeInterval, now: Date = .now) async throws -> String {
        let token = SecretToken.make()
        try await engine.write { db in
            try await db.raw("""
                INSERT INTO user_token (token_hash, user_id, purpose, expires_at)
                VALUES (\(bind: Self.hash(token)), \(bind: userID), \(bind: purpose), \(bind: now.addingTimeInterval(lifetime).epochSeconds))
                """).run()
        }
        return token
    }

    /// The account a still-valid one-time token belongs to.
    public func userForToken(_ token: String, now: Date = .now) async throws -> User? {
        guard let row = try await engine.reader.raw(
            "SELECT user_id FROM user_token WHERE token_hash = \(bind: Self.hash(token)) AND expires_at > \(bind: now.epochSeconds)"
        ).first() else { return nil }
        return try await user(id: try row.decode(column: "user_id", as: Int64.self))
    }

    // MARK: Sessions

    /// Starts a session for `user` and returns its cookie value; only the value's hash is stored.
    public func createSession(userID: Int64, lifetime: TimeInterval, now: Date = .now) async throws -> String {
        let token = SecretToken.make()
        try await engine.write { db in
            try await db.raw("DELETE FROM user_session WHERE expires_at <= \(bind: now.epochSeconds)").run()
            try await db.raw("""
                INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, expires_at)
                VALUES (\(bind: Self.hash(token)), \(bind: userID), \(bind: SecretToken.make()), \(bind: now.epochSeconds),
                        \(bind: now.addingTimeInterval(lifetime).epochSeconds))
                """).run()
        }
        return token
    }

    /// The live session for a cookie value, sliding its expiry forward when it is past half its life,
    /// but never beyond `maxAge` after it began: however busy, a session ends and asks for the password again.
    public func session(token: String, lifetime: TimeInterval, maxAge: TimeInterval = .infinity, now: Date = .now) async throws -> SessionRecord? {
        guard token.count <= 200 else { return nil }
        let hash = Self.hash(token)
        let oldestStart = maxAge.isFinite ? now.addingTimeInterval(-maxAge).epochSeconds : Int64.min
        guard let row = try await engine.reader.raw("""
            SELECT s.csrf_token, s.expires_at, u.id, u.email, u.name, u.role, u.author_id, u.disabled,
                   CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, u.created_at
            FROM user_session s JOIN user_account u ON u.id = s.user_id
            WHERE s.token_hash = \(bind: hash) AND s.expires_at > \(bind: now.epochSeconds) AND s.created_at > \(bind: oldestStart)
            """).first() else { return nil }
        let user = try Self.user(row)
        guard !user.isDisabled else { return nil }
        var expires = Date(epochSeconds: try row.decode(column: "expires_at", as: Int64.self))
        if expires.timeIntervalSince(now) < lifetime / 2 {
            let extended = now.addingTimeInterval(lifetime)
            expires = extended
            try await engine.write { db in
                try await db.raw("UPDATE user_session SET expires_at = \(bind: extended.epochSeconds) WHERE token_hash = \(bind: hash)").run()
            }
        }
        return SessionRecord(user: user, csrfToken: try row.decode(column: "csrf_token", as: String.self), expiresAt: expires, token: token)
    }

    public func endSession(token: String) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM user_session WHERE token_hash = \(bind: Self.hash(token))").run()
        }
    }

    // MARK: Sign-in throttling

    /// Failed sign-ins for `email` in the current window (failures older than `window` are forgotten).
    public func loginFailures(email: String, window: TimeInterval, now: Date = .now) async throws -> LoginFailures {
        guard let row = try await engine.reader.raw(
            "SELECT failures, first_at, locked_until FROM login_failure WHERE email = \(bind: User.normalizedEmail(email))"
        ).first() else { return LoginFailures(failures: 0, lockedUntil: nil) }
        let locked = try row.decode(column: "locked_until", as: Int64?.self).map(Date.init(epochSeconds:)).flatMap { $0 > now ? $0 : nil }
        let first = Date(epochSeconds: try row.decode(column: "first_at", as: Int64.self))
        let failures = now.timeIntervalSince(first) > window && locked == nil ? 0 : try row.decode(column: "failures", as: Int.self)
        return LoginFailures(failures: failures, lockedUntil: locked)
    }

    /// Counts one failed sign-in for `email`; locks the name for `lockout` once `limit` is reached.
    @discardableResult
    public func recordLoginFailure(email: String, window: TimeInterval, limit: Int, lockout: TimeInterval, now: Date = .now) async throws -> LoginFailures {
        let email = User.normalizedEmail(email)
        return try await engine.write { db in
            var failures = 1
            var first = now
            if let row = try await db.raw("SELECT failures, first_at, locked_until FROM login_failure WHERE email = \(bind: email)").first() {
                let previousFirst = Date(epochSeconds: try row.decode(column: "first_at", as: Int64.self))
                let locked = try row.decode(column: "locked_until", as: Int64?.self).map(Date.init(epochSeconds:))
                if now.timeIntervalSince(previousFirst) <= window || (locked.map { $0 > now } ?? false) {
                    failures = try row.decode(column: "failures", as: Int.self) + 1
                    first = previousFirst
                }
            }
            let lockedUntil: Date? = failures >= limit ? now.addingTimeInterval(lockout) : nil
            try await db.raw("""
                INSERT INTO login_failure (email, failures, first_at, locked_until)
                VALUES (\(bind: email), \(bind: failures), \(bind: first.epochSeconds), \(bind: lockedUntil?.epochSeconds))
                ON CONFLICT (email) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at,
                  locked_until = COALESCE(excluded.locked_until, login_failure.locked_until)
                """).run()
            return LoginFailures(failures: failures, lockedUntil: lockedUntil)
        }
    }

    public func clearLoginFailures(email: String) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM login_failure WHERE email = \(bind: User.normalizedEmail(email))").run()
        }
    }

    // MARK: Admin API keys

    /// Creates an Admin API key for `userID`; returns the key (shown once) and its record.
    public func createAPIKey(userID: Int64, name: String, now: Date = .now) async throws -> (key: String, record: APIKey) {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            throw MastheadError(.invalidInput, "a key needs a name of 1 to 100 characters, e.g. 'Wire importer'", location: .init(field: "name"))
        }
        let key = "mh_" + SecretToken.make()
        let prefix = String(key.prefix(9))
        let id = try await engine.write { db in
            guard let row = try await db.raw("""
                INSERT INTO api_key (user_id, name, prefix, key_hash, created_at)
                VALUES (\(bind: userID), \(bind: name), \(bind: prefix), \(bind: Self.hash(key)), \(bind: now.epochSeconds)) RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting an API key returned no id") }
            return try row.decode(column: "id", as: Int64.self)
        }
        return (key, APIKey(id: id, userID: userID, name: name, prefix: prefix, createdAt: now, lastUsedAt: nil))
    }

    public func apiKeys(userID: Int64) async throws -> [APIKey] {
        try await engine.reader.raw(
            "SELECT id, user_id, name, prefix, created_at, last_used_at FROM api_key WHERE user_id = \(bind: userID) ORDER BY id"
        ).all().map { row in
            APIKey(
                id: try row.decode(column: "id", as: Int64.self), userID: try row.decode(column: "user_id", as: Int64.self),
                name: try row.decode(column: "name", as: String.self), prefix: try row.decode(column: "prefix", as: String.self),
                createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)),
                lastUsedAt: try row.decode(column: "last_used_at", as: Int64?.self).map(Date.init(epochSeconds:)))
        }
    }

    /// Revokes every API key of `userID` (an admin's action, or part of a reset); returns how many.
    @discardableResult
    public func revokeAPIKeys(userID: Int64) async throws -> Int {
        try await engine.write { db in
            let count = try await db.raw("SELECT COUNT(*) AS n FROM api_key WHERE user_id = \(bind: userID)").first()?.decode(column: "n", as: Int.self) ?? 0
            try await db.raw("DELETE FROM api_key WHERE user_id = \(bind: userID)").run()
            return count
        }
    }

    /// How many API keys each account has.
    public func apiKeyCounts() async throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for row in try await engine.reader.raw("SELECT user_id, COUNT(*) AS n FROM api_key GROUP BY user_id").all() {
            counts[try row.decode(column: "user_id", as: Int64.self)] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    /// A one-time password reset link for `userID`, made in the same transaction that ends the
    /// account's sessions and revokes its API keys.
    public func resetAccess(userID: Int64, lifetime: TimeInterval, now: Date = .now) async throws -> String {
        let token = SecretToken.make()
        try await engine.write { db in
            try await db.raw("DELETE FROM user_session WHERE user_id = \(bind: userID)").run()
            try await db.raw("DELETE FROM api_key WHERE user_id = \(bind: userID)").run()
            try await db.raw("""
                INSERT INTO user_token (token_hash, user_id, purpose, expires_at)
                VALUES (\(bind: Self.hash(token)), \(bind: userID), 'reset', \(bind: now.addingTimeInterval(lifetime).epochSeconds))
                """).run()
        }
        return token
    }

    /// Revokes (deletes) the key `id` of `userID`; false when there is no such key.
    @discardableResult
    public func revokeAPIKey(id: Int64, userID: Int64) async throws -> Bool {
        try await engine.write { db in
            let found = try await db.raw("SELECT id FROM api_key WHERE id = \(bind: id) AND user_id = \(bind: userID)").first() != nil
            try await db.raw("DELETE FROM api_key WHERE id = \(bind: id) AND user_id = \(bind: userID)").run()
            return found
        }
    }

    /// The enabled account an Admin API key acts for.
    public func userForAPIKey(_ key: String, now: Date = .now) async throws -> User? {
        guard key.hasPrefix("mh_"), key.count < 100 else { return nil }
        let hash = Self.hash(key)
        guard let row = try await engine.reader.raw("""
            SELECT k.last_used_at, u.id, u.email, u.name, u.role, u.author_id, u.disabled, CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, u.created_at
            FROM api_key k JOIN user_account u ON u.id = k.user_id WHERE k.key_hash = \(bind: hash)
            """).first() else { return nil }
        let user = try Self.user(row)
        guard !user.isDisabled else { return nil }
        // Recording every use would make each read a write: once a minute is enough to show activity.
        let lastUsed = try row.decode(column: "last_used_at", as: Int64?.self) ?? 0
        if now.epochSeconds - lastUsed > 60 {
            try await engine.write { db in
                try await db.raw("UPDATE api_key SET last_used_at = \(bind: now.epochSeconds) WHERE key_hash = \(bind: hash)").run()
            }
        }
        return user
    }

    // MARK: Site settings

    /// Settings changed in the admin, by name (`title`, `tagline`, `disclaimer`, `tip_prompt`).
    public func siteSettingOverrides() async throws -> [String: String] {
        var values: [String: String] = [:]
        for row in try await engine.reader.raw("SELECT name, value FROM site_setting").all() {
            values[try row.decode(column: "name", as: String.self)] = try row.decode(column: "value", as: String.self)
        }
        return values
    }

    /// Stores settings changed in the admin; pages are rendered again with them.
    public func saveSiteSettings(_ values: [String: String]) async throws {
        let limits = ["title": 200, "tagline": 300, "tip_prompt": 500, "disclaimer": 2_000]
        var values = values
        for (name, value) in values {
            values[name] = try PlainText.checked(value, field: name, label: "'\(name)'", maxLength: limits[name] ?? 2_000, multiline: name == "disclaimer")
        }
        try await writeContent { [values] db in
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                try await db.raw("""
                    INSERT INTO site_setting (name, value) VALUES (\(bind: name), \(bind: value))
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    """).run()
            }
        }
    }
}
