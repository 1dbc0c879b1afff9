import Foundation
import MastheadCore
import SQLKit

/// What happened to an article, as webhooks announce it.
public enum ArticleEvent: String, Sendable, CaseIterable, Codable {
    case published = "article.published"
    case updated = "article.updated"
    case unpublished = "article.unpublished"
    case deleted = "article.deleted"
}

/// A URL told about article events with a signed POST.
public struct Webhook: Sendable, Hashable {
    public var id: Int64
    public var url: String
    public var events: [ArticleEvent]
    public var createdAt: Date
}

/// One event on its way to one webhook, and how sending it went.
public struct WebhookDelivery: Sendable, Hashable {
    public enum State: String, Sendable {
        case pending
        case delivered
        case failed
    }

    public var id: Int64
    public var webhookID: Int64
    public var url: String
    public var secret: String
    public var event: String
    public var payload: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?
    public var createdAt: Date
    public var finishedAt: Date?
}

extension Store {
    /// Adds a webhook for `events`; returns it and its signing secret (shown to the admin once).
    public func addWebhook(url: String, events: [ArticleEvent], now: Date = .now) async throws -> (Webhook, String) {
        let url = url.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false, url.count <= 2000 else {
            throw MastheadError(.invalidInput, "'\(url)' is not an http:// or https:// address", location: .init(field: "url"))
        }
        guard !events.isEmpty else {
            throw MastheadError(.invalidInput, "choose at least one event", location: .init(field: "events"))
        }
        let secret = "whsec_" + SecretToken.make()
        let id = try await engine.write { db in
            guard let row = try await db.raw("""
                INSERT INTO webhook (url, secret, events, created_at)
                VALUES (\(bind: url), \(bind: secret), \(bind: events.map(\.rawValue).joined(separator: ",")), \(bind: now.epochSeconds)) RETURNING id
                """).first() else { throw MastheadError(.storage, "inserting a webhook returned no id") }
            return try row.decode(column: "id", as: Int64.self)
        }
        return (Webhook(id: id, url: url, events: events, createdAt: now), secret)
    }

    public func webhooks() async throws -> [Webhook] {
        try await engine.reader.raw("SELECT id, url, events, created_at FROM webhook ORDER BY id").all().map { row in
            Webhook(
                id: try row.decode(column: "id", as: Int64.self), url: try row.decode(column: "url", as: String.self),
                events: try row.decode(column: "events", as: String.self).split(separator: ",").compactMap { ArticleEvent(rawValue: String($0)) },
                createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
        }
    }

    /// Removes a webhook and its delivery log.
    public func deleteWebhook(id: Int64) async throws {
        try await engine.write { db in
            try await db.raw("DELETE FROM webhook_delivery WHERE webhook_id = \(bind: id)").run()
            try await db.raw("DELETE FROM webhook WHERE id = \(bind: id)").run()
        }
    }

    /// Queues `payload` for every webhook that listens to `event`. Sent by the server's dispatcher,
    /// from this process or another (an import from the command line is announced too).
    public func enqueueWebhooks(_ event: ArticleEvent, payload: String, now: Date = .now) async throws {
        try await engine.write { db in try await Self.enqueue(event, payload: payload, in: db, now: now) }
    }

    /// Records `event` in the transaction of the change that caused it, when any webhook listens;
    /// the server announces it (see `WebhookNotifier.announceRecordedEvents`): never lost by a
    /// crash after the change, never sent for a change that did not commit.
    static func recordEvent(_ event: ArticleEvent, articleID: Int64, in db: any SQLDatabase, now: Date) async throws {
        guard try await db.raw("SELECT id FROM webhook LIMIT 1").first() != nil else { return }
        try await db.raw("""
            INSERT INTO article_event (article_id, event, created_at) VALUES (\(bind: articleID), \(bind: event.rawValue), \(bind: now.epochSeconds))
            """).run()
    }

    /// Events recorded with the changes that caused them and not yet announced, oldest first.
    public func pendingArticleEvents(limit: Int = 100) async throws -> [(id: Int64, articleID: Int64, event: ArticleEvent)] {
        try await engine.reader.raw("SELECT id, article_id, event FROM article_event ORDER BY id LIMIT \(bind: limit)").all().compactMap { row in
            guard let event = ArticleEvent(rawValue: try row.decode(column: "event", as: String.self)) else { return nil }
            return (try row.decode(column: "id", as: Int64.self), try row.decode(column: "article_id", as: Int64.self), event)
        }
    }

    /// Queues the deliveries of recorded event `eventID` (with `payload`, or none when nil: the
    /// article is gone) and marks it announced, in one transaction. False when another instance
    /// announced it first.
    @discardableResult
    public func announceArticleEvent(id eventID: Int64, _ event: ArticleEvent, payload: String?, now: Date = .now) async throws -> Bool {
        try await engine.write { db in
            guard try await db.raw("DELETE FROM article_event WHERE id = \(bind: eventID) RETURNING id").first() != nil else { return false }
            if let payload { try await Self.enqueue(event, payload: payload, in: db, now: now) }
            return true
        }
    }

    private static func enqueue(_ event: ArticleEvent, payload: String, in db: any SQLDatabase, now: Date) async throws {
            for row in try await db.raw("SELECT id, events FROM webhook").all() {
                let events = try row.decode(column: "events", as: String.self).split(separator: ",")
                guard events.contains(Substring(event.rawValue)) else { continue }
                try await db.raw("""
                    INSERT INTO webhook_delivery (webhook_id, event, payload, state, attempts, next_attempt_at, created_at)
                    VALUES (\(bind: try row.decode(column: "id", as: Int64.self)), \(bind: event.rawValue), \(bind: payload), 'pending', 0,
                            \(bind: now.epochSeconds), \(bind: now.epochSeconds))
                    """).run()
            }
    }

    private static let deliverySelect: SQLQueryString = """
        SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.state, d.attempts, d.next_attempt_at, d.last_status,
               d.last_error, d.created_at, d.finished_at
        FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id
        """

    /// Pending deliveries whose time has come, oldest first.
    public func dueDeliveries(now: Date = .now, limit: Int = 20) async throws -> [WebhookDelivery] {
        try await engine.reader.raw(
            Self.deliverySelect + " WHERE d.state = 'pending' AND d.next_attempt_at <= \(bind: now.epochSeconds) ORDER BY d.id LIMIT \(bind: limit)"
        ).all().map(Self.delivery)
    }

    /// The newest deliveries, for the admin's log.
    public func recentDeliveries(limit: Int = 100) async throws -> [WebhookDelivery] {
        try await engine.reader.raw(Self.deliverySelect + " ORDER BY d.id DESC LIMIT \(bind: limit)").all().map(Self.delivery)
    }

    /// Records one attempt: delivered, retried at `retryAt`, or (with no retry time) failed for good.
    public func recordAttempt(deliveryID: Int64, status: Int?, error: String?, delivered: Bool, retryAt: Date?, now: Date = .now) async throws {
        let state: WebhookDelivery.State = delivered ? .delivered : (retryAt == nil ? .failed : .pending)
        try await engine.write { db in
            try await db.raw("""
                UPDATE webhook_delivery SET attempts = attempts + 1, state = \(bind: state.rawValue), last_status = \(bind: status),
                  last_error = \(bind: error.map { String($0.prefix(500)) }), next_attempt_at = \(bind: (retryAt ?? now).epochSeconds),
                  finished_at = \(bind: state == .pending ? nil : now.epochSeconds)
                WHERE id = \(bind: deliveryID)
                """).run()
        }
    }

    /// Takes a due delivery for sending until `until`; false when another instance took it first.
    public func claimDelivery(id: Int64, until: Date, now: Date = .now) async throws -> Bool {
        try await engine.write { db in
            try await db.raw("""
                UPDATE webhook_delivery SET next_attempt_at = \(bind: until.epochSeconds)
                WHERE id = \(bind: id) AND state = 'pending' AND next_attempt_at <= \(bind: now.epochSeconds) RETURNING id
                """).first() != nil
        }
    }

    /// Sends a failed delivery again at once.
    public func retryDelivery(id: Int64, now: Date = .now) async throws {
        try await engine.write { db in
            try await db.raw("""
                UPDATE webhook_delivery SET state = 'pending', next_attempt_at = \(bind: now.epochSeconds), finished_at = NULL
                WHERE id = \(bind: id) AND state = 'failed'
                """).run()
        }
    }

    private static func delivery(_ row: any SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: try row.decode(column: "id", as: Int64.self), webhookID: try row.decode(column: "webhook_id", as: Int64.self),
            url: try row.decode(column: "url", as: String.self), secret: try row.decode(column: "secret", as: String.self),
            event: try row.decode(column: "event", as: String.self), payload: try row.decode(column: "payload", as: String.self),
            state: WebhookDelivery.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .failed,
            attempts: try row.decode(column: "attempts", as: Int.self),
            nextAttemptAt: Date(epochSeconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            lastStatus: try row.decode(column: "last_status", as: Int?.self), lastError: try row.decode(column: "last_error", as: String?.self),
            createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)),
            finishedAt: try row.decode(column: "finished_at", as: Int64?.self).map(Date.init(epochSeconds:)))
    }
}
