import Foundation

/// A condition from the Content API's `filter` (Ghost's NQL, the common cases): on tags, authors,
/// slug, id, section and publication time; combined with `+` (and) and `,` (or).
public indirect enum ArticleCondition: Sendable, Equatable {
    case tag(String)
    case primaryTag(String)
    case author(String)
    case primaryAuthor(String)
    case slug(String)
    case id(Int64)
    case section(String)
    case publishedAt(String, Date)
    case not(ArticleCondition)
    case all([ArticleCondition])
    case any([ArticleCondition])
}


/// Reads the Content API's `filter` parameter: Ghost's filter language (NQL) for the cases front
/// ends use — `tag:china`, `tags:[china,ukraine]`, `author:jane`, `primary_tag:x`, `tag:-x`,
/// `published_at:>'2026-01-01'`, `featured:true`, joined with `+` (and), `,` (or) and parentheses.
///
/// A filter is public input (the Content API key sits in front-end code), so its size is capped
/// before it is read: its length, how deep parentheses nest, and how many terms and values it
/// holds. Within those limits parsing is bounded in time and stack, and the SQL it becomes stays
/// far below every engine's limit on bound values.
public struct ContentFilter {
    public struct ParseError: Error, Sendable {
        public var message: String
    }

    /// The most characters a filter may have.
    public static let maxLength = 4_096
    /// The most parentheses open at once.
    public static let maxDepth = 8
    /// The most `field:value` terms in one filter.
    public static let maxTerms = 50
    /// The most values in all (a `[a,b,c]` list counts each).
    public static let maxValues = 200

    private let characters: [Character]
    private var position = 0
    private let timeZone: TimeZone
    private var depth = 0
    private var terms = 0
    private var values = 0

    public static func parse(_ text: String, timeZone: TimeZone) throws(ParseError) -> ArticleCondition {
        guard text.utf8.count <= maxLength else {
            throw ParseError(message: "the filter is longer than \(maxLength) characters")
        }
        var parser = ContentFilter(characters: Array(text), timeZone: timeZone)
        let condition = try parser.anyOf()
        guard parser.position == parser.characters.count else {
            throw ParseError(message: "unexpected '\(parser.characters[parser.position])' at position \(parser.position + 1) of the filter")
        }
        return condition
    }

    private init(characters: [Character], timeZone: TimeZone) {
        self.characters = characters
        self.timeZone = timeZone
    }

    private var next: Character? { position < characters.count ? characters[position] : nil }

    private mutating func anyOf() throws(ParseError) -> ArticleCondition {
        var parts = [try allOf()]
        while next == "," {
            position += 1
            parts.append(try allOf())
        }
        return parts.count == 1 ? parts[0] : .any(parts)
    }

    private mutating func allOf() throws(ParseError) -> ArticleCondition {
        var parts = [try term()]
        while next == "+" {
            position += 1
            parts.append(try term())
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private mutating func term() throws(ParseError) -> ArticleCondition {
        if next == "(" {
            depth += 1
            guard depth <= Self.maxDepth else {
                throw ParseError(message: "the filter nests parentheses more than \(Self.maxDepth) deep")
            }
            position += 1
            let inner = try anyOf()
            guard next == ")" else { throw ParseError(message: "a '(' in the filter is not closed") }
            position += 1
            depth -= 1
            return inner
        }
        terms += 1
        guard terms <= Self.maxTerms else { throw ParseError(message: "the filter has more than \(Self.maxTerms) terms") }
        let key = word()
        guard !key.isEmpty, next == ":" else { throw ParseError(message: "expected 'field:value' at position \(position + 1) of the filter") }
        position += 1
        var negated = false
        var comparison = "="
        if next == "-" { negated = true; position += 1 }
        for op in [">=", "<=", ">", "<"] where String(characters[position..<min(characters.count, position + op.count)]) == op {
            comparison = op
            position += op.count
            break
        }
        guard comparison == "=" || key == "published_at" else {
            throw ParseError(message: "'\(comparison)' compares only published_at, not '\(key)'")
        }
        if let character = next, "<>=".contains(character) {
            throw ParseError(message: "unexpected '\(character)' at position \(position + 1) of the filter")
        }
        var values: [String] = []
        if next == "[" {
            position += 1
            repeat {
                if next == "," { position += 1 }
                values.append(try value())
            } while next == ","
            guard next == "]" else { throw ParseError(message: "a '[' in the filter is not closed") }
            position += 1
        } else {
            values.append(try value())
        }
        let conditions = try values.map { value throws(ParseError) in try condition(key: key, comparison: comparison, value: value) }
        let combined = conditions.count == 1 ? conditions[0] : .any(conditions)
        return negated ? .not(combined) : combined
    }

    private mutating func word() -> String {
        var text = ""
        while let character = next, character.isLetter || character.isNumber || "_.-".contains(character) {
            text.append(character)
            position += 1
        }
        return text
    }

    private mutating func value() throws(ParseError) -> String {
        values += 1
        guard values <= Self.maxValues else { throw ParseError(message: "the filter has more than \(Self.maxValues) values") }
        if let quote = next, quote == "'" || quote == "\"" {
            position += 1
            var text = ""
            while let character = next, character != quote {
                text.append(character)
                position += 1
            }
            guard next == quote else { throw ParseError(message: "a quoted value in the filter is not closed") }
            position += 1
            return text
        }
        var text = ""
        while let character = next, !",+()[]".contains(character) {
            text.append(character)
            position += 1
        }
        guard !text.isEmpty else { throw ParseError(message: "a value is missing at position \(position + 1) of the filter") }
        return text
    }

    private func condition(key: String, comparison: String, value: String) throws(ParseError) -> ArticleCondition {
        switch key {
        case "tag", "tags", "tags.slug": return .tag(value)
        case "primary_tag", "primary_tag.slug": return .primaryTag(value)
        case "author", "authors", "authors.slug": return .author(value)
        case "primary_author", "primary_author.slug": return .primaryAuthor(value)
        case "slug": return .slug(value)
        case "section": return .section(value)
        case "id":
            guard let id = Int64(value) else { throw ParseError(message: "id must be a number, not '\(value)'") }
            return .id(id)
        case "published_at":
            guard let date = DateParsing.date(from: value, timeZone: timeZone) else {
                throw ParseError(message: "'\(value)' is not a date such as 2026-11-28 or 2026-11-28 14:30:00")
            }
            return .publishedAt(comparison, date)
        case "featured":
            // Masthead has no featured flag: nothing is featured.
            return value == "true" ? .any([]) : .all([])
        case "visibility", "status", "type":
            return value == "public" || value == "published" || value == "post" ? .all([]) : .any([])
        default:
            throw ParseError(message: "the filter cannot use '\(key)'; it can use tag, tags, primary_tag, author, authors, primary_author, slug, id, section, published_at, featured, visibility")
        }
    }
}
