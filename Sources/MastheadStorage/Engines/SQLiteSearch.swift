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

    /// How many articles hold each of `words` (as the index spells them: lower case), read from
    /// the index's vocabulary; a word the index does not hold counts 0.
    private func documentCounts(_ db: any SQLDatabase, words: [String]) async throws -> [String: Int] {
        guard !words.isEmpty else { return [:] }
        var counts: [String: Int] = [:]
        for row in try await db.raw("SELECT term, doc FROM article_search_terms WHERE term IN (\(binds: words))").all() {
            counts[try row.decode(column: "term", as: String.self)] = try row.decode(column: "doc", as: Int.self)
        }
        return counts
    }

    /// The FTS5 query: every word must match; the last word is a prefix when the index does not
    /// hold it as a word, so "harb" finds "harbour" but "the" does not fan out to every word it begins.
    func plan(_ db: any SQLDatabase, text: String) async throws -> (match: String, ranked: Bool)? {
        let words = SearchText.words(text)
        guard let last = words.last else { return nil }
        var counts = try await documentCounts(db, words: words)
        let prefixed = last.count >= 2 && counts[last] == nil
        if prefixed {
            counts[last] = try await db.raw("""
                SELECT SUM(doc) AS n FROM article_search_terms WHERE term >= \(bind: last) AND term < \(bind: last + "\u{10FFFF}")
                """).first()?.decode(column: "n", as: Int?.self) ?? 0
        }
        let match = words.enumerated().map { index, word in
            "\"\(word)\"" + (index == words.count - 1 && prefixed ? "*" : "")
        }.joined(separator: " ")
        // An article matches only if it holds every word: the rarest word bounds the matches.
        let fewest = words.map { counts[$0] ?? 0 }.min() ?? 0
        return (match, fewest <= SearchText.rankedMatchesLimit)
    }

    /// An FTS5 query matching any of the telling words of `text` (a headline) — its words the
    /// index holds in few articles — for "more like this"; nil when it has none.
    func tellingWordsQuery(_ db: any SQLDatabase, text: String) async throws -> String? {
        let words = SearchText.candidateTellingWords(text)
        guard !words.isEmpty else { return nil }
        let counts = try await documentCounts(db, words: words)
        let telling = words.filter { SearchText.isTelling(documentCount: counts[$0] ?? 0) }
        guard !telling.isEmpty else { return nil }
        return telling.map { "\"\($0)\"" }.joined(separator: " OR ")
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
            // `+a.id`: walk the listing index newest first and look each story up in the matches,
            // rather than fetch every match and sort them all.
            matching = " FROM article a WHERE +a.id IN (SELECT rowid FROM article_search WHERE article_search MATCH \(bind: match)) AND " + filter
            order = " ORDER BY a.published_at DESC, a.id DESC"
        }
        let total = counted
            ? try await db.raw("SELECT COUNT(*) AS n FROM (SELECT a.id" + matching + " LIMIT \(bind: countLimit)) m").first()?.decode(column: "n", as: Int.self) ?? 0
            : 0
        let ids = try await db.raw("SELECT a.id" + matching + order + " LIMIT \(bind: limit) OFFSET \(bind: offset)").all()
            .map { try $0.decode(column: "id", as: Int64.self) }
        guard snippets, !ids.isEmpty else { return (ids.map { ($0, "") }, total) }
        var snippetByID: [Int64: String] = [:]
        for row in try await db.raw("""
            SELECT rowid AS id, snippet(article_search, 2, \(bind: SearchText.highlightStart), \(bind: SearchText.highlightEnd), '…', 24) AS body_snippet,
                   snippet(article_search, 1, \(bind: SearchText.highlightStart), \(bind: SearchText.highlightEnd), '…', 24) AS summary_snippet
            FROM article_search WHERE article_search MATCH \(bind: match) AND rowid IN (\(binds: ids))
            """).all() {
            let body = try row.decode(column: "body_snippet", as: String.self)
            let summary = try row.decode(column: "summary_snippet", as: String.self)
            snippetByID[try row.decode(column: "id", as: Int64.self)] = body.contains(SearchText.highlightStart) || !summary.contains(SearchText.highlightStart) ? body : summary
        }
        return (ids.map { ($0, snippetByID[$0] ?? "") }, total)
    }
}
