import MastheadCore
import SQLKit

/// Full-text search over titles, deks and bodies: an engine capability (FTS5 on SQLite,
/// `tsvector` with a GIN index on PostgreSQL) behind one interface. The store calls only these
/// functions; a `match` is whatever the engine's ``plan(_:text:)`` made of what a reader typed.
protocol SearchIndex: Sendable {
    /// Creates the index and fills it from the articles already stored.
    func createSchema(_ db: any SQLDatabase) async throws
    /// Adds what counting words needs (SQLite's vocabulary table); nothing on engines that need none.
    func createVocabulary(_ db: any SQLDatabase) async throws
    /// Puts one article's current text in the index (inside the caller's transaction).
    func index(_ db: any SQLDatabase, id: Int64, title: String, summary: String, bodyHTML: String, replacing: Bool) async throws
    /// Indexes new articles (none of them indexed yet), many at a time.
    func indexNew(_ db: any SQLDatabase, _ articles: [(id: Int64, title: String, summary: String, bodyHTML: String)]) async throws
    /// Takes an article out of the index.
    func remove(_ db: any SQLDatabase, id: Int64) async throws
    /// The engine's query for one word (letters and digits only), or for any word it begins.
    func term(_ word: String, prefix: Bool) -> String
    /// What joins terms in the engine's queries when all must match, and when any may.
    var allOf: String { get }
    var anyOf: String { get }
    /// A query for the ids of the articles that `match` (the engine's query) finds.
    func ids(matching match: String) -> SQLQueryString
    /// Matching article ids, best first (or newest first, when `ranked` is false), each with a
    /// snippet of its body (or dek) around the match when `snippets`, matches between
    /// ``SearchText/highlightStart`` and ``SearchText/highlightEnd``; and how many match in all
    /// (at most `countLimit`) when `counted`. Snippets are made for the page's articles only.
    func search(
        _ db: any SQLDatabase, match: String, where filter: SQLQueryString, limit: Int, offset: Int,
        ranked: Bool, snippets: Bool, counted: Bool, countLimit: Int
    ) async throws -> (ids: [(Int64, String)], total: Int)
}

extension SearchIndex {
    /// How to search for what a reader typed: the engine's query (every word must match; the last
    /// one is also the start of longer words when the index does not hold it as a word, so "harb"
    /// finds "harbour" but "the" does not fan out to every word it begins), and whether to rank
    /// by relevance (few matches) or list the newest first (more than
    /// ``SearchText/rankedMatchesLimit`` match). Nil when nothing searchable was typed.
    func plan(_ db: any SQLDatabase, text: String) async throws -> (match: String, ranked: Bool)? {
        let words = SearchText.words(text)
        guard let last = words.last else { return nil }
        let exact = words.map { term($0, prefix: false) }.joined(separator: allOf)
        let limit = SearchText.rankedMatchesLimit + 1
        guard last.count >= 2 else { return (exact, try await counts(db, [exact], limit: limit)[0] < limit) }
        let found = try await counts(db, [term(last, prefix: false), exact], limit: limit)
        if found[0] > 0 { return (exact, found[1] < limit) }
        let prefixed = (words.dropLast().map { term($0, prefix: false) } + [term(last, prefix: true)]).joined(separator: allOf)
        return (prefixed, try await counts(db, [prefixed], limit: limit)[0] < limit)
    }

    /// How many articles match each of `matches` (the engine's queries), in one statement,
    /// counting no further than `limit`: a common word costs no more than a rare one.
    func counts(_ db: any SQLDatabase, _ matches: [String], limit: Int) async throws -> [Int] {
        guard !matches.isEmpty else { return [] }
        var select: SQLQueryString = "SELECT "
        for (index, match) in matches.enumerated() {
            select += (index > 0 ? ", (SELECT COUNT(*) FROM (" : "(SELECT COUNT(*) FROM (") + ids(matching: match)
                + " LIMIT \(bind: limit)) m) AS c\(unsafeRaw: String(index))"
        }
        guard let row = try await db.raw(select).first() else { return matches.map { _ in 0 } }
        return try matches.indices.map { try row.decode(column: "c\(String($0))", as: Int.self) }
    }

    /// A query matching any of the telling words of `text` (a headline) — its words the index
    /// holds in few articles — for "more like this"; nil when it has none.
    func tellingWordsQuery(_ db: any SQLDatabase, text: String) async throws -> String? {
        let words = SearchText.candidateTellingWords(text)
        guard !words.isEmpty else { return nil }
        let found = try await counts(db, words.map { term($0, prefix: false) }, limit: SearchText.tellingWordLimit + 1)
        let telling = zip(words, found).filter { SearchText.isTelling(documentCount: $0.1) }.map { term($0.0, prefix: false) }
        return telling.isEmpty ? nil : telling.joined(separator: anyOf)
    }

    func index(_ db: any SQLDatabase, id: Int64, title: String, summary: String, bodyHTML: String) async throws {
        try await index(db, id: id, title: title, summary: summary, bodyHTML: bodyHTML, replacing: true)
    }

    func search(
        _ db: any SQLDatabase, match: String, where filter: SQLQueryString, limit: Int, offset: Int,
        ranked: Bool = true, snippets: Bool = true, counted: Bool = true
    ) async throws -> (ids: [(Int64, String)], total: Int) {
        try await search(
            db, match: match, where: filter, limit: limit, offset: offset, ranked: ranked, snippets: snippets, counted: counted,
            countLimit: SearchLimits.countLimit)
    }
}

extension SQLDatabase {
    /// The full-text search of this database's engine.
    var searchIndex: any SearchIndex {
        dialect.name == PostgresSearch.dialectName ? PostgresSearch() : SQLiteSearch()
    }
}

/// What every engine's search makes of a reader's words the same way.
enum SearchText {
    /// Marks around a match in a snippet (private-use characters, never in stored text).
    static let highlightStart = "\u{E000}"
    static let highlightEnd = "\u{E001}"

    /// The snippet to show from a row with `body_snippet` and `summary_snippet`: the body's,
    /// unless only the dek holds a match.
    static func snippet(_ row: any SQLRow) throws -> String {
        let body = try row.decode(column: "body_snippet", as: String.self)
        let summary = try row.decode(column: "summary_snippet", as: String.self)
        return body.contains(highlightStart) || !summary.contains(highlightStart) ? body : summary
    }

    /// Beyond this many matching articles, a search lists the newest matches first: ranking every
    /// one of them would read each one's length from the index, and readers of a news site
    /// searching a common word want recent stories anyway.
    static let rankedMatchesLimit = 4_000

    /// The words of what a reader typed, lower case, at most twelve: letters and digits only, so
    /// no engine's query syntax can be written through them.
    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(12).map(String.init)
    }

    /// Words that say little about what a story is about.
    private static let stopWords: Set<String> = [
        "about", "after", "again", "also", "been", "before", "being", "between", "could", "does", "during", "each", "from",
        "have", "into", "just", "more", "most", "much", "only", "other", "over", "said", "says", "should", "since", "some",
        "such", "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through", "under",
        "until", "very", "were", "what", "when", "where", "which", "while", "will", "with", "would", "year", "years", "your",
    ]

    /// The words of a headline that could tell what the story is about: long, not stop words,
    /// each once, at most ten.
    static func candidateTellingWords(_ text: String) -> [String] {
        var seen = Set<String>()
        return Array(
            text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
                .filter { $0.count >= 4 && !stopWords.contains($0) && seen.insert($0).inserted }
                .prefix(10))
    }

    /// The most articles a telling word may be in: a word in few articles says what the story is
    /// about; one in thousands says little, and costs much.
    static let tellingWordLimit = 500

    static func isTelling(documentCount: Int) -> Bool {
        documentCount > 1 && documentCount <= tellingWordLimit
    }
}
