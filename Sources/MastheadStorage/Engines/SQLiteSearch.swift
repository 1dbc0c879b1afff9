import Foundation
import MastheadCore
import SQLKit

/// Full-text search on SQLite: an FTS5 table over titles, deks and bodies, ranked with BM25
/// (a title match counts most), with highlighted snippets. PostgreSQL gets its own implementation
/// beside this one; the store calls only these functions.
enum SQLiteSearch {
    /// Creates the index and fills it from the articles already stored.
    static func createSchema(_ db: any SQLDatabase) async throws {
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
    static func index(_ db: any SQLDatabase, id: Int64, title: String, summary: String, bodyHTML: String) async throws {
        try await db.raw("DELETE FROM article_search WHERE rowid = \(bind: id)").run()
        try await db.raw(
            "INSERT INTO article_search (rowid, title, summary, body) VALUES (\(bind: id), \(bind: title), \(bind: summary), \(bind: MarkdownRenderer.plainText(fromHTML: bodyHTML)))"
        ).run()
    }

    /// The FTS5 query for what a reader typed: every word must match (the last as a prefix).
    /// Operators and quotes typed by the reader are treated as plain words.
    static func matchQuery(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(12).map(String.init)
        guard !words.isEmpty else { return nil }
        return words.enumerated().map { index, word in
            "\"\(word)\"" + (index == words.count - 1 && word.count >= 2 ? "*" : "")
        }.joined(separator: " ")
    }

    /// Words that say little about what a story is about.
    private static let stopWords: Set<String> = [
        "about", "after", "again", "also", "been", "before", "being", "between", "could", "does", "during", "each", "from",
        "have", "into", "just", "more", "most", "much", "only", "other", "over", "said", "says", "should", "since", "some",
        "such", "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through", "under",
        "until", "very", "were", "what", "when", "where", "which", "while", "will", "with", "would", "year", "years", "your",
    ]

    /// An FTS5 query matching any of the telling words of `text` (a title and dek): for "more like this".
    static func similarityQuery(_ text: String) -> String? {
        var seen = Set<String>()
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
            .filter { $0.count >= 4 && !stopWords.contains($0) && seen.insert($0).inserted }
            .prefix(10)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    static let highlightStart = "\u{E000}"
    static let highlightEnd = "\u{E001}"

    /// Matching article ids, best first, with a snippet of the body (or dek) around the match.
    static func search(
        _ db: any SQLDatabase, match: String, where filter: SQLQueryString, limit: Int, offset: Int
    ) async throws -> (ids: [(Int64, String)], total: Int) {
        let from: SQLQueryString = """
             FROM article_search JOIN article a ON a.id = article_search.rowid
             WHERE article_search MATCH \(bind: match) AND\u{20}
            """ + filter
        let total = try await db.raw("SELECT COUNT(*) AS n" + from).first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await db.raw("""
            SELECT a.id, snippet(article_search, 2, \(bind: highlightStart), \(bind: highlightEnd), '…', 24) AS body_snippet,
                   snippet(article_search, 1, \(bind: highlightStart), \(bind: highlightEnd), '…', 24) AS summary_snippet
            """ + from + " ORDER BY bm25(article_search, 10.0, 4.0, 1.0), a.published_at DESC LIMIT \(bind: limit) OFFSET \(bind: offset)").all()
        let ids = try rows.map { row -> (Int64, String) in
            let body = try row.decode(column: "body_snippet", as: String.self)
            let summary = try row.decode(column: "summary_snippet", as: String.self)
            return (try row.decode(column: "id", as: Int64.self), body.contains(highlightStart) || !summary.contains(highlightStart) ? body : summary)
        }
        return (ids, total)
    }
}
