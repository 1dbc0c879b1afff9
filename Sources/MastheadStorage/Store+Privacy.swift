import Foundation
import MastheadCore
import SQLKit

/// One recorded consent choice.
public struct ConsentRecord: Sendable, Hashable {
    public var consentID: String
    public var policyVersion: Int
    /// `accept`, `reject`, `choose` or `grant`.
    public var action: String
    public var granted: [String]
    public var createdAt: Date
}

/// Counts gathered in memory and added to the store in one go.
public struct AudienceCounts: Sendable {
    public var pages: [String: [String: (views: Int, visitors: Int)]] = [:]
    public var referrers: [String: [String: Int]] = [:]
    public var site: [String: (views: Int, visitors: Int)] = [:]

    public init() {}

    public var isEmpty: Bool { pages.isEmpty && referrers.isEmpty && site.isEmpty }

    /// Adds `other`'s counts to these.
    public mutating func add(_ other: AudienceCounts) {
        for (day, pages) in other.pages {
            for (path, count) in pages {
                let current = self.pages[day, default: [:]][path] ?? (0, 0)
                self.pages[day, default: [:]][path] = (current.views + count.views, current.visitors + count.visitors)
            }
        }
        for (day, domains) in other.referrers {
            for (domain, views) in domains { referrers[day, default: [:]][domain, default: 0] += views }
        }
        for (day, count) in other.site {
            let current = site[day] ?? (0, 0)
            site[day] = (current.views + count.views, current.visitors + count.visitors)
        }
    }
}

/// Audience figures over a period.
public struct AudienceReport: Sendable {
    public var views: Int
    public var visitors: Int
    public var days: [(day: String, views: Int, visitors: Int)]
    public var pages: [(path: String, views: Int, visitors: Int)]
    public var referrers: [(domain: String, views: Int)]
}

extension Store {
    // MARK: Consent records

    public func recordConsent(id: String, policyVersion: Int, action: String, granted: [String], now: Date = .now) async throws {
        try await engine.write { db in
            try await db.raw("""
                INSERT INTO consent_record (consent_id, policy_version, action, granted, created_at)
                VALUES (\(bind: id), \(bind: policyVersion), \(bind: action), \(bind: granted.sorted().joined(separator: ",")), \(bind: now.epochSeconds))
                """).run()
        }
    }

    /// Every record, oldest first (or those of one consent id).
    public func consentRecords(id: String? = nil) async throws -> [ConsentRecord] {
        var query: SQLQueryString = "SELECT consent_id, policy_version, action, granted, created_at FROM consent_record"
        if let id { query += " WHERE consent_id = \(bind: id)" }
        return try await engine.reader.raw(query + " ORDER BY id").all().map { row in
            ConsentRecord(
                consentID: try row.decode(column: "consent_id", as: String.self), policyVersion: try row.decode(column: "policy_version", as: Int.self),
                action: try row.decode(column: "action", as: String.self),
                granted: try row.decode(column: "granted", as: String.self).split(separator: ",").map(String.init),
                createdAt: Date(epochSeconds: try row.decode(column: "created_at", as: Int64.self)))
        }
    }

    /// Deletes the records of one consent id (a reader's request); returns how many there were.
    @discardableResult
    public func deleteConsentRecords(id: String) async throws -> Int {
        try await engine.write { db in
            let count = try await db.raw("SELECT COUNT(*) AS n FROM consent_record WHERE consent_id = \(bind: id)").first()?.decode(column: "n", as: Int.self) ?? 0
            try await db.raw("DELETE FROM consent_record WHERE consent_id = \(bind: id)").run()
            return count
        }
    }

    // MARK: Audience counts

    /// Adds counts gathered in memory.
    public func addAudienceCounts(_ counts: AudienceCounts) async throws {
        guard !counts.isEmpty else { return }
        try await engine.write { db in
            for (day, pages) in counts.pages {
                for (path, count) in pages {
                    try await db.raw("""
                        INSERT INTO audience_page (day, path, views, visitors) VALUES (\(bind: day), \(bind: path), \(bind: count.views), \(bind: count.visitors))
                        ON CONFLICT (day, path) DO UPDATE SET views = audience_page.views + excluded.views, visitors = audience_page.visitors + excluded.visitors
                        """).run()
                }
            }
            for (day, domains) in counts.referrers {
                for (domain, views) in domains {
                    try await db.raw("""
                        INSERT INTO audience_referrer (day, domain, views) VALUES (\(bind: day), \(bind: domain), \(bind: views))
                        ON CONFLICT (day, domain) DO UPDATE SET views = audience_referrer.views + excluded.views
                        """).run()
                }
            }
            for (day, count) in counts.site {
                try await db.raw("""
                    INSERT INTO audience_site (day, views, visitors) VALUES (\(bind: day), \(bind: count.views), \(bind: count.visitors))
                    ON CONFLICT (day) DO UPDATE SET views = audience_site.views + excluded.views, visitors = audience_site.visitors + excluded.visitors
                    """).run()
            }
        }
    }

    /// The figures for days `from` to `until` (inclusive, `YYYY-MM-DD`).
    public func audienceReport(from: String, until: String, top: Int = 20) async throws -> AudienceReport {
        let days = try await engine.reader.raw(
            "SELECT day, views, visitors FROM audience_site WHERE day >= \(bind: from) AND day <= \(bind: until) ORDER BY day"
        ).all().map { (try $0.decode(column: "day", as: String.self), try $0.decode(column: "views", as: Int.self), try $0.decode(column: "visitors", as: Int.self)) }
        let pages = try await engine.reader.raw("""
            SELECT path, CAST(SUM(views) AS BIGINT) AS views, CAST(SUM(visitors) AS BIGINT) AS visitors FROM audience_page WHERE day >= \(bind: from) AND day <= \(bind: until)
            GROUP BY path ORDER BY SUM(views) DESC, path LIMIT \(bind: top * 10)
            """).all().map { (try $0.decode(column: "path", as: String.self), try $0.decode(column: "views", as: Int.self), try $0.decode(column: "visitors", as: Int.self)) }
        let referrers = try await engine.reader.raw("""
            SELECT domain, CAST(SUM(views) AS BIGINT) AS views FROM audience_referrer WHERE day >= \(bind: from) AND day <= \(bind: until)
            GROUP BY domain ORDER BY SUM(views) DESC, domain LIMIT \(bind: top)
            """).all().map { (try $0.decode(column: "domain", as: String.self), try $0.decode(column: "views", as: Int.self)) }
        return AudienceReport(
            views: days.reduce(0) { $0 + $1.1 }, visitors: days.reduce(0) { $0 + $1.2 }, days: days, pages: pages, referrers: referrers)
    }
}
