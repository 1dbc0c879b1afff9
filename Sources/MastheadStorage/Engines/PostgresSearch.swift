import Foundation
import MastheadCore
import SQLKit

/// Full-text search on PostgreSQL: a `tsvector` per article (title weighted A, dek B, body D,
/// accents removed, words not stemmed, as on SQLite) under a GIN index, ranked with `ts_rank`,
/// snippets from `ts_headline`.
struct PostgresSearch: SearchIndex {
    static let dialectName = "postgresql"
    private static let lessThan = "\u{E002}"
    private static let ampersand = "\u{E003}"

    func createSchema(_ db: any SQLDatabase) async throws {
        // unaccent is a trusted extension: the database's owner may create it.
        do {
            try await db.raw("CREATE EXTENSION IF NOT EXISTS unaccent").run()
        } catch {
            throw MastheadError(
                .storage, "cannot create PostgreSQL's unaccent extension, which search needs (\(PostgresEngine.describe(error))): make the Masthead user the database's owner, or have an administrator run CREATE EXTENSION unaccent in it")
        }
        try await db.raw("""
            CREATE TABLE article_search (
                id BIGINT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL, document TSVECTOR NOT NULL
            )
            """).run()
        try await db.raw("CREATE INDEX article_search_document ON article_search USING GIN (document)").run()
        let rows = try await db.raw("SELECT id, title, summary, body_html FROM article").all()
        for row in rows {
            try await index(
                db, id: try row.decode(column: "id", as: Int64.self), title: try row.decode(column: "title", as: String.self),
                summary: try row.decode(column: "summary", as: String.self), bodyHTML: try row.decode(column: "body_html", as: String.self),
                replacing: false)
        }
    }

    func createVocabulary(_ db: any SQLDatabase) async throws {}

    func index(_ db: any SQLDatabase, id: Int64, title: String, summary: String, bodyHTML: String, replacing: Bool) async throws {
        if replacing { try await remove(db, id: id) }
        try await indexNew(db, [(id, title, summary, bodyHTML)])
    }

    func remove(_ db: any SQLDatabase, id: Int64) async throws {
        try await db.raw("DELETE FROM article_search WHERE id = \(bind: id)").run()
    }

    func indexNew(_ db: any SQLDatabase, _ articles: [(id: Int64, title: String, summary: String, bodyHTML: String)]) async throws {
        // PostgreSQL takes at most 65,535 bound values a statement: 4 an article.
        for chunk in stride(from: 0, to: articles.count, by: 500).map({ articles[$0..<min($0 + 500, articles.count)] }) {
            var insert: SQLQueryString = "INSERT INTO article_search (id, title, summary, body, document) SELECT v.id, v.title, v.summary, v.body, "
            insert += "setweight(to_tsvector('simple', unaccent(v.title)), 'A') || setweight(to_tsvector('simple', unaccent(v.summary)), 'B')"
            insert += " || setweight(to_tsvector('simple', unaccent(v.body)), 'D') FROM (VALUES "
            for (index, article) in chunk.enumerated() {
                if index > 0 { insert += ", " }
                insert += "(\(bind: article.id)::BIGINT, \(bind: article.title)::TEXT, \(bind: article.summary)::TEXT, \(bind: MarkdownRenderer.plainText(fromHTML: article.bodyHTML))::TEXT)"
            }
            insert += ") AS v (id, title, summary, body)"
            try await db.raw(insert).run()
        }
    }

    /// The query `match` as a `tsquery` (accents removed like the index's).
    private func query(_ match: String) -> SQLQueryString {
        "to_tsquery('simple', unaccent(\(bind: match)))"
    }

    func term(_ word: String, prefix: Bool) -> String {
        "'\(word)'" + (prefix ? ":*" : "")
    }

    let allOf = " & "
    let anyOf = " | "

    func ids(matching match: String) -> SQLQueryString {
        "SELECT id FROM article_search WHERE document @@ " + query(match)
    }

    func search(
        _ db: any SQLDatabase, match: String, where filter: SQLQueryString, limit: Int, offset: Int,
        ranked: Bool, snippets: Bool, counted: Bool, countLimit: Int
    ) async throws -> (ids: [(Int64, String)], total: Int) {
        let matching: SQLQueryString
        let order: SQLQueryString
        if ranked {
            matching = " FROM article_search s JOIN article a ON a.id = s.id WHERE s.document @@ " + query(match) + " AND " + filter
            order = " ORDER BY ts_rank(s.document, " + query(match) + ") DESC, a.published_at DESC, a.id DESC"
        } else {
            matching = " FROM article a WHERE a.id IN (" + ids(matching: match) + ") AND " + filter
            order = " ORDER BY a.published_at DESC, a.id DESC"
        }
        let total = counted
            ? try await db.raw("SELECT COUNT(*) AS n FROM (SELECT a.id" + matching + " LIMIT \(bind: countLimit)) m").first()?.decode(column: "n", as: Int.self) ?? 0
            : 0
        let ids = try await db.raw("SELECT a.id" + matching + order + " LIMIT \(bind: limit) OFFSET \(bind: offset)").all()
            .map { try $0.decode(column: "id", as: Int64.self) }
        guard snippets, !ids.isEmpty else { return (ids.map { ($0, "") }, total) }
        let options = "StartSel=\(SearchText.highlightStart), StopSel=\(SearchText.highlightEnd), MaxWords=24, MinWords=12, MaxFragments=1, FragmentDelimiter=…"
        var snippetByID: [Int64: String] = [:]
        // ts_headline reads its text as HTML and drops what looks like a tag or an entity: the
        // text's < and & go in as private-use characters and come back after.
        func shielded(_ column: String) -> SQLQueryString {
            "replace(replace(\(unsafeRaw: column), '<', \(bind: Self.lessThan)), '&', \(bind: Self.ampersand))"
        }
        let headline: SQLQueryString = "ts_headline('simple', " + shielded("body") + ", " + query(match) + ", \(bind: options)) AS body_snippet, "
            + "ts_headline('simple', " + shielded("summary") + ", " + query(match) + ", \(bind: options)) AS summary_snippet"
        for row in try await db.raw("SELECT id, " + headline + " FROM article_search WHERE id IN (\(binds: ids))").all() {
            snippetByID[try row.decode(column: "id", as: Int64.self)] = try SearchText.snippet(row)
                .replacingOccurrences(of: Self.lessThan, with: "<").replacingOccurrences(of: Self.ampersand, with: "&")
        }
        return (ids.map { ($0, snippetByID[$0] ?? "") }, total)
    }
}
