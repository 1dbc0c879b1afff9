import Foundation
import MastheadCore
import SQLKit

/// Full-text search on SQLite: an FTS5 table over titles, deks and bodies, ranked with BM25
/// (a title match counts most), with highlighted snippets.
struct SQLiteSearch: SearchIndex {
    /// Creates the index and fills it from the articles already stored.
    func createSchema(_ db: any SQLDatabase) async throws {
        try await db.raw(
            "CREATE VIRTUAL TABLE article_search USING fts5(title, summary, body, tokenize = 'unicode61 remove_diacritics 2')"
        ).run()
        let rows = try await db.raw("SELECT id, title, summary, body_html FROM article").all()
        for row in rows {
            try await index(
                db, id: try row.decode(column: "id", as: Int64.self), title: try row.decode(column: "title", as: String.self),
                summary: try row.decode(column: "summary", as: String.self), bodyHTML: try row.decode(column: "body_html", as: String.self))
        }
    }

    /// Puts one article's current text in the index (inside the caller's transaction).
    func index(_ db: any SQLDatabase, id: Int64, title: String, summary: String, bodyHTML: String, replacing: Bool) async throws {
        if replacing { try await remove(db, id: id) }
        try await db.raw(
            "INSERT INTO article_search (rowid, title, summary, body) VALUES (\(bind: id), \(bind: title), \(bind: summary), \(bind: MarkdownRenderer.plainText(fromHTML: bodyHTML)))"
        ).run()
    }

    func remove(_ db: any SQLDatabase, id: Int64) async throws {
        try await db.raw("DELETE FROM article_search WHERE rowid = \(bind: id)").run()
    }

    /// Indexes new articles (none of them indexed yet), many at a time.
    func indexNew(_ db: any SQLDatabase, _ articles: [(id: Int64, title: String, summary: String, bodyHTML: String)]) async throws {
        for chunk in stride(from: 0, to: articles.count, by: 500).map({ articles[$0..<min($0 + 500, articles.count)] }) {
            var insert: SQLQueryString = "INSERT INTO article_search (rowid, title, summary, body) VALUES "
            for (index, article) in chunk.enumerated() {
                if index > 0 { insert += ", " }
                insert += "(\(bind: article.id), \(bind: article.title), \(bind: article.summary), \(bind: MarkdownRenderer.plainText(fromHTML: article.bodyHTML)))"
            }
            try await db.raw(insert).run()
        }
    }

    /// The index's words and how many articles hold each (FTS5's own vocabulary table).
    func createVocabulary(_ db: any SQLDatabase) async throws {
        try await db.raw("CREATE VIRTUAL TABLE article_search_terms USING fts5vocab(article_search, 'row')").run()
    }

    func term(_ word: String, prefix: Bool) -> String {
        "\"\(word)\"" + (prefix ? "*" : "")
    }

    let allOf = " "
    let anyOf = " OR "

    func ids(matching match: String) -> SQLQueryString {
        "SELECT rowid FROM article_search WHERE article_search MATCH \(bind: match)"
    }

    /// The stories matching `match` that `filter` lets through, for listing newest first a page
    /// at a time: the listing index is walked and the index asked about each story until the page
    /// is full, rather than every match gathered first (a common word is in most stories).
    static func newestFirst(match: String, where filter: SQLQueryString) -> SQLQueryString {
        " FROM article a WHERE " + filter
            + " AND EXISTS (SELECT 1 FROM article_search WHERE article_search.rowid = a.id AND article_search MATCH \(bind: match))"
    }

    func search(
        _ db: any SQLDatabase, match: String, where filter: SQLQueryString, limit: Int, offset: Int,
        ranked: Bool, snippets: Bool, counted: Bool, countLimit: Int
    ) async throws -> (ids: [(Int64, String)], total: Int) {
        let matching: SQLQueryString
        let order: SQLQueryString
        if ranked {
            // CROSS JOIN keeps the index first: the planner would otherwise walk every published
            // article and ask the index about each.
            matching = """
                 FROM article_search CROSS JOIN article a ON a.id = article_search.rowid
                 WHERE article_search MATCH \(bind: match) AND\u{20}
                """ + filter
            order = " ORDER BY bm25(article_search, 10.0, 4.0, 1.0), a.published_at DESC, a.id DESC"
        } else {
            // Counting: every match at once (`+a.id` keeps the listing index out of it).
            matching = " FROM article a WHERE +a.id IN (" + ids(matching: match) + ") AND " + filter
            order = " ORDER BY a.published_at DESC, a.id DESC"
        }
        let total = counted
            ? try await db.raw("SELECT COUNT(*) AS n FROM (SELECT a.id" + matching + " LIMIT \(bind: countLimit)) m").first()?.decode(column: "n", as: Int.self) ?? 0
            : 0
        let listing = ranked ? matching : Self.newestFirst(match: match, where: filter)
        let ids = try await db.raw("SELECT a.id" + listing + order + " LIMIT \(bind: limit) OFFSET \(bind: offset)").all()
            .map { try $0.decode(column: "id", as: Int64.self) }
        guard snippets, !ids.isEmpty else { return (ids.map { ($0, "") }, total) }
        var snippetByID: [Int64: String] = [:]
        for row in try await db.raw("""
            SELECT rowid AS id, snippet(article_search, 2, \(bind: SearchText.highlightStart), \(bind: SearchText.highlightEnd), '…', 24) AS body_snippet,
                   snippet(article_search, 1, \(bind: SearchText.highlightStart), \(bind: SearchText.highlightEnd), '…', 24) AS summary_snippet
            FROM article_search WHERE article_search MATCH \(bind: match) AND rowid IN (\(binds: ids))
            """).all() {
            snippetByID[try row.decode(column: "id", as: Int64.self)] = try SearchText.snippet(row)
        }
        return (ids.map { ($0, snippetByID[$0] ?? "") }, total)
    }
}
