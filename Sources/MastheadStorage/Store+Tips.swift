import Foundation
import MastheadCore
import SQLKit

/// The newsroom's tip key as stored: the public key, and the private key only when it is sealed
/// under a passphrase (otherwise it is kept offline).
public struct StoredTipKey: Sendable {
    public var publicKey: Data
    public var protectedPrivateKey: Data?
    public var receiptSalt: Data
}

/// A conversation with one source, as the newsroom lists it: no content, dates to the day.
public struct TipThread: Sendable, Hashable {
    public enum Status: String, Sendable, CaseIterable {
        case new, read, replied, archived
    }

    public var id: Int64
    /// The slow hash of the source's receipt (also what each sealed message is bound to).
    public var lookupHash: String
    public var status: Status
    public var assigneeID: Int64?
    public var assigneeName: String?
    public var keep: Bool
    public var receivedDay: String
    public var lastDay: String
    public var messageCount: Int
    /// The public key replies are sealed to (its private half comes only from the source's receipt).
    public var replyKey: Data
}

/// One sealed message: from the source, or a reply (sealed to the source and to the newsroom).
public struct TipMessage: Sendable, Hashable {
    public var id: Int64
    public var fromSource: Bool
    public var newsroomBox: Data
    public var sourceBox: Data?
    public var day: String
}

extension Store {
    public func tipKey() async throws -> StoredTipKey? {
        guard let row = try await engine.reader.raw("SELECT public_key, protected_key, receipt_salt FROM tip_key WHERE id = 1").first() else { return nil }
        return StoredTipKey(
            publicKey: Data(base64Encoded: try row.decode(column: "public_key", as: String.self)) ?? Data(),
            protectedPrivateKey: try row.decode(column: "protected_key", as: String?.self).flatMap { Data(base64Encoded: $0) },
            receiptSalt: Data(base64Encoded: try row.decode(column: "receipt_salt", as: String.self)) ?? Data())
    }

    /// Sets the newsroom's tip key. A new key keeps the receipt salt, so sources can still come back.
    public func setTipKey(publicKey: Data, protectedPrivateKey: Data?, day: String) async throws {
        let salt = try await tipKey()?.receiptSalt ?? Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        try await engine.write { db in
            try await db.raw("DELETE FROM tip_key").run()
            try await db.raw("""
                INSERT INTO tip_key (id, public_key, protected_key, receipt_salt, created_day)
                VALUES (1, \(bind: publicKey.base64EncodedString()), \(bind: protectedPrivateKey?.base64EncodedString()),
                        \(bind: salt.base64EncodedString()), \(bind: day))
                """).run()
        }
    }

    /// Starts a thread with the source's first message; returns its id.
    public func createTipThread(lookupHash: String, replyKey: Data, box: Data, day: String) async throws -> Int64 {
        try await engine.write { db in
            guard let row = try await db.raw("""
                INSERT INTO tip_thread (lookup_hash, reply_key, status, keep, received_day, last_day)
                VALUES (\(bind: lookupHash), \(bind: replyKey.base64EncodedString()), 'new', 0, \(bind: day), \(bind: day)) RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting a tip returned no id") }
            let id = try row.decode(column: "id", as: Int64.self)
            try await db.raw("""
                INSERT INTO tip_message (thread_id, sender, newsroom_box, day) VALUES (\(bind: id), 'source', \(bind: box.base64EncodedString()), \(bind: day))
                """).run()
            return id
        }
    }

    /// Adds a message to a thread: the source's (newsroom box only) or a reply (both boxes).
    public func addTipMessage(threadID: Int64, fromSource: Bool, newsroomBox: Data, sourceBox: Data?, day: String) async throws {
        try await engine.write { db in
            try await db.raw("""
                INSERT INTO tip_message (thread_id, sender, newsroom_box, source_box, day)
                VALUES (\(bind: threadID), \(bind: fromSource ? "source" : "newsroom"), \(bind: newsroomBox.base64EncodedString()),
                        \(bind: sourceBox?.base64EncodedString()), \(bind: day))
                """).run()
            let status = fromSource ? "new" : "replied"
            try await db.raw("UPDATE tip_thread SET last_day = \(bind: day), status = \(bind: status) WHERE id = \(bind: threadID)").run()
        }
    }

    private static let threadSelect: SQLQueryString = """
        SELECT t.id, t.lookup_hash, t.status, t.assignee_id, u.name AS assignee_name, t.keep, t.received_day, t.last_day, t.reply_key,
               (SELECT COUNT(*) FROM tip_message m WHERE m.thread_id = t.id) AS messages
        FROM tip_thread t LEFT JOIN user_account u ON u.id = t.assignee_id
        """

    public func tipThreads(includeArchived: Bool) async throws -> [TipThread] {
        let condition: SQLQueryString = includeArchived ? "" : " WHERE t.status <> 'archived'"
        return try await engine.reader.raw(Self.threadSelect + condition + " ORDER BY t.last_day DESC, t.id DESC").all().map(Self.thread)
    }

    public func tipThread(id: Int64) async throws -> TipThread? {
        try await engine.reader.raw(Self.threadSelect + " WHERE t.id = \(bind: id)").first().map(Self.thread)
    }

    public func tipThread(lookupHash: String) async throws -> TipThread? {
        try await engine.reader.raw(Self.threadSelect + " WHERE t.lookup_hash = \(bind: lookupHash)").first().map(Self.thread)
    }

    public func tipMessages(threadID: Int64) async throws -> [TipMessage] {
        try await engine.reader.raw(
            "SELECT id, sender, newsroom_box, source_box, day FROM tip_message WHERE thread_id = \(bind: threadID) ORDER BY id"
        ).all().map { row in
            TipMessage(
                id: try row.decode(column: "id", as: Int64.self), fromSource: try row.decode(column: "sender", as: String.self) == "source",
                newsroomBox: Data(base64Encoded: try row.decode(column: "newsroom_box", as: String.self)) ?? Data(),
                sourceBox: try row.decode(column: "source_box", as: String?.self).flatMap { Data(base64Encoded: $0) },
                day: try row.decode(column: "day", as: String.self))
        }
    }

    public func updateTipThread(id: Int64, status: TipThread.Status? = nil, assigneeID: Int64?? = nil, keep: Bool? = nil) async throws {
        try await engine.write { db in
            if let status { try await db.raw("UPDATE tip_thread SET status = \(bind: status.rawValue) WHERE id = \(bind: id)").run() }
            if let assigneeID { try await db.raw("UPDATE tip_thread SET assignee_id = \(bind: assigneeID) WHERE id = \(bind: id)").run() }
            if let keep { try await db.raw("UPDATE tip_thread SET keep = \(bind: keep ? 1 : 0) WHERE id = \(bind: id)").run() }
        }
    }

    /// Deletes a thread and every sealed message in it.
    public func deleteTipThread(id: Int64) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM tip_message WHERE thread_id = \(bind: id)").run()
            try await db.raw("DELETE FROM tip_thread WHERE id = \(bind: id)").run()
        }
    }

    /// Deletes threads quiet since before `day` that no editor chose to keep; returns how many.
    @discardableResult
    public func deleteExpiredTips(lastActiveBefore day: String) async throws -> Int {
        try await engine.write { db in
            let ids = try await db.raw("SELECT id FROM tip_thread WHERE keep = 0 AND last_day < \(bind: day)").all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !ids.isEmpty else { return 0 }
            try await db.raw("DELETE FROM tip_message WHERE thread_id IN (\(binds: ids))").run()
            try await db.raw("DELETE FROM tip_thread WHERE id IN (\(binds: ids))").run()
            return ids.count
        }
    }

    private static func thread(_ row: any SQLRow) throws -> TipThread {
        TipThread(
            id: try row.decode(column: "id", as: Int64.self), lookupHash: try row.decode(column: "lookup_hash", as: String.self),
            status: TipThread.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .new,
            assigneeID: try row.decode(column: "assignee_id", as: Int64?.self), assigneeName: try row.decode(column: "assignee_name", as: String?.self),
            keep: try row.decode(column: "keep", as: Int.self) != 0, receivedDay: try row.decode(column: "received_day", as: String.self),
            lastDay: try row.decode(column: "last_day", as: String.self), messageCount: try row.decode(column: "messages", as: Int.self),
            replyKey: Data(base64Encoded: try row.decode(column: "reply_key", as: String.self)) ?? Data())
    }
}
