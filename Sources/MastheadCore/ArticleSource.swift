import Foundation
import Yams

/// An article as written in a Markdown file with YAML front matter, checked and ready to store.
public struct ArticleSource: Sendable, Equatable {
    public var title: String
    public var slug: String
    public var sectionName: String
    public var tagNames: [String]
    public var authorNames: [String]
    public var publishedAt: Date?
    public var updatedAt: Date?
    public var summary: String
    /// The image as written: a path relative to the Markdown file, or an absolute URL.
    public var image: String?
    public var imageAlt: String
    public var imageCaption: String
    public var imageCredit: String
    public var disclaimer: Bool
    public var status: ArticleStatus
    public var bodyMarkdown: String
    /// The file it came from, for messages.
    public var file: String
    /// Where the story was first published, when that stays its canonical address.
    public var canonicalURL = ""
    /// Headline and description for search engines, when they differ from the page's.
    public var seoTitle = ""
    public var seoDescription = ""
    /// Corrections and updates shown under the story, oldest first; nil when the file says
    /// nothing of them (the story's own are then left as they are).
    public var corrections: [CorrectionSource]?

    /// A correction or update as written in front matter.
    public struct CorrectionSource: Sendable, Equatable {
        public var kind: Correction.Kind
        public var text: String
        public var date: Date

        public init(kind: Correction.Kind, text: String, date: Date) {
            self.kind = kind
            self.text = text
            self.date = date
        }
    }
    /// The line of the `image` field, to point at it if the file cannot be read.
    public var imageLine: Int?
    /// The file line where ``bodyMarkdown`` starts, so problems in the body can name their line.
    public var bodyLine: Int = 1

    /// An article from another system (WordPress, Ghost), as checked as its importer could;
    /// `file` names where it came from in messages.
    public init(
        title: String, slug: String, sectionName: String, tagNames: [String] = [], authorNames: [String] = [],
        publishedAt: Date? = nil, updatedAt: Date? = nil, summary: String = "", image: String? = nil, imageAlt: String = "",
        imageCaption: String = "", imageCredit: String = "", disclaimer: Bool = false, status: ArticleStatus,
        bodyMarkdown: String, file: String, imageLine: Int? = nil
    ) {
        self.title = title
        self.slug = slug
        self.sectionName = sectionName
        self.tagNames = tagNames
        self.authorNames = authorNames
        self.publishedAt = publishedAt
        self.updatedAt = updatedAt
        self.summary = summary
        self.image = image
        self.imageAlt = imageAlt
        self.imageCaption = imageCaption
        self.imageCredit = imageCredit
        self.disclaimer = disclaimer
        self.status = status
        self.bodyMarkdown = bodyMarkdown
        self.file = file
        self.imageLine = imageLine
    }

    /// The article checked as the editor checks it (``ArticleContent/validated()``): headline,
    /// dek, slug, tags, search fields and image text; trimmed where the editor trims. Errors name
    /// the file the article came from.
    public func checked() throws -> ArticleSource {
        let content = ArticleContent(
            title: title, summary: summary, bodyMarkdown: bodyMarkdown, slug: slug, sectionID: 0, tagNames: tagNames,
            authorIDs: authorNames.indices.map(Int64.init), image: image.map {
                // Without alt text, the caption (or else the headline) describes the picture, as imports write it.
                FeaturedImage(source: $0, alt: [imageAlt, imageCaption, title].first { !$0.isEmpty } ?? "", caption: imageCaption, credit: imageCredit)
            },
            disclaimer: disclaimer, seoTitle: seoTitle, seoDescription: seoDescription)
        let valid: ArticleContent
        do {
            valid = try content.validated()
        } catch var error as MastheadError {
            error.location = .init(file: file, line: error.location?.field == "image_alt" ? imageLine : nil, field: error.location?.field)
            throw error
        }
        var checked = self
        checked.title = valid.title
        checked.summary = valid.summary
        checked.slug = valid.slug
        checked.tagNames = valid.tagNames
        checked.seoTitle = valid.seoTitle
        checked.seoDescription = valid.seoDescription
        if let image = valid.image {
            checked.imageAlt = image.alt
            checked.imageCaption = image.caption
            checked.imageCredit = image.credit
        }
        return checked
    }

    /// The front matter fields a Markdown article may have.
    public static let fields: [String] = [
        "title", "slug", "section", "tags", "authors", "date", "updated", "summary", "image",
        "image_alt", "image_caption", "image_credit", "disclaimer", "status", "seo_title", "seo_description", "canonical_url",
        "corrections",
    ]

    /// Parses `text`, the content of `file`; dates without a zone are read in `timeZone`.
    ///
    /// Throws a ``MastheadError`` naming the file, line and field of the first problem found.
    /// A standing page's `slug` may be a path under other pages (`about/team`): `allowsPath`.
    public static func parse(_ text: String, file: String, timeZone: TimeZone, allowsPath: Bool = false) throws -> ArticleSource {
        let (yaml, rawBody, firstBodyLine) = try splitFrontMatter(text, file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw MastheadError(.invalidInput, "invalid YAML front matter: \(error.problemText)", location: .init(file: file, line: error.line.map { $0 + 1 }))
        }
        guard let mapping = node?.mapping else {
            throw MastheadError(.invalidInput, "the front matter must be a list of 'field: value' lines", location: .init(file: file, line: 1))
        }

        var values: [String: (node: Node, line: Int)] = [:]
        for (keyNode, valueNode) in mapping {
            // Line numbers count from the file's first line, which is the opening `---`.
            let line = (keyNode.mark?.line ?? 0) + 1
            guard let key = keyNode.string else {
                throw MastheadError(.invalidInput, "a field name must be text", location: .init(file: file, line: line))
            }
            guard fields.contains(key) else {
                throw MastheadError(
                    .invalidInput, "unknown field '\(key)'; the fields are: \(fields.joined(separator: ", "))",
                    location: .init(file: file, line: line, field: key))
            }
            values[key] = (valueNode, line)
        }
        let reader = FieldReader(values: values, file: file, timeZone: timeZone)

        guard let title = try reader.string("title"), !title.isEmpty else {
            throw MastheadError(.invalidInput, "missing title: every article needs a 'title:' line", location: .init(file: file, line: 1, field: "title"))
        }
        let slug = try reader.string("slug") ?? Slug.make(from: title)
        guard Slug.isValid(slug) || (allowsPath && slug.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { Slug.isValid(String($0)) }) else {
            throw MastheadError(
                .invalidInput, "slug '\(slug)' may hold only lowercase letters, digits and single hyphens",
                location: reader.location("slug"))
        }
        let statusText = try reader.string("status") ?? ArticleStatus.published.rawValue
        guard let status = ArticleStatus(rawValue: statusText.lowercased()) else {
            throw MastheadError(
                .invalidInput, "status '\(statusText)' is not one of: \(ArticleStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                location: reader.location("status"))
        }
        let sectionName = try reader.string("section") ?? "News"
        guard !Slug.make(from: sectionName).isEmpty, !ReservedPaths.segments.contains(Slug.make(from: sectionName)) else {
            throw MastheadError(.invalidInput, "section '\(sectionName)' is a name the site keeps for itself", location: reader.location("section"))
        }
        let tags = try reader.list("tags").map { $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }.filter { !$0.isEmpty }
        let authors = try reader.list("authors")
        let body = rawBody.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else {
            throw MastheadError(.invalidInput, "the article has no body text after the front matter", location: .init(file: file))
        }

        let leadingBlankLines = rawBody.prefix(while: { $0.isWhitespace }).filter { $0 == "\n" }.count
        var source = ArticleSource(
            title: title,
            slug: slug,
            sectionName: sectionName,
            tagNames: tags.uniqued(by: { Slug.make(from: $0) }),
            authorNames: authors.uniqued(by: { Slug.make(from: $0) }),
            publishedAt: try reader.date("date"),
            updatedAt: try reader.date("updated"),
            summary: try reader.string("summary") ?? "",
            image: try reader.string("image"),
            imageAlt: try reader.string("image_alt") ?? "",
            imageCaption: try reader.string("image_caption") ?? "",
            imageCredit: try reader.string("image_credit") ?? "",
            disclaimer: try reader.bool("disclaimer") ?? false,
            status: status,
            bodyMarkdown: body,
            file: file,
            imageLine: values["image"]?.line
        )
        source.bodyLine = firstBodyLine + leadingBlankLines
        source.seoTitle = try reader.string("seo_title") ?? ""
        source.seoDescription = try reader.string("seo_description") ?? ""
        if let canonical = try reader.string("canonical_url") {
            guard canonical.hasPrefix("https://") || canonical.hasPrefix("http://") else {
                throw MastheadError(.invalidInput, "canonical_url must be a web address (https://…)", location: reader.location("canonical_url"))
            }
            source.canonicalURL = canonical
        }
        source.corrections = try reader.corrections("corrections")
        return source
    }

    /// Splits `---` front matter from the body: returns the YAML, the body and the body's first line.
    static func splitFrontMatter(_ text: String, file: String) throws -> (String, String, Int) {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        if lines.first?.hasPrefix("\u{FEFF}") == true { lines[0] = lines[0].dropFirst() }
        guard lines.first?.trimmingCharacters(in: .whitespaces) == "---" else {
            throw MastheadError(.invalidInput, "the file must start with front matter between '---' lines", location: .init(file: file, line: 1))
        }
        guard let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) else {
            throw MastheadError(.invalidInput, "the front matter has no closing '---' line", location: .init(file: file, line: 1))
        }
        let yaml = lines[1..<end].joined(separator: "\n")
        let body = lines[(end + 1)...].joined(separator: "\n")
        return (yaml, body, end + 2)
    }
}

/// Reads typed values out of front matter, each error naming the field and its line.
private struct FieldReader {
    var values: [String: (node: Node, line: Int)]
    var file: String
    var timeZone: TimeZone

    func location(_ field: String) -> MastheadError.Location {
        .init(file: file, line: values[field]?.line, field: field)
    }

    func string(_ field: String) throws -> String? {
        guard let (node, _) = values[field] else { return nil }
        if case .scalar(let scalar) = node {
            if scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain) { return nil }
            return scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw MastheadError(.invalidInput, "'\(field)' must be a single value, not a list or mapping", location: location(field))
    }

    /// `- {kind: correction, text: "…", date: 2024-02-20T09:00:00Z}` entries.
    func corrections(_ field: String) throws -> [ArticleSource.CorrectionSource]? {
        guard let (node, _) = values[field] else { return nil }
        guard case .sequence(let sequence) = node else {
            throw MastheadError(.invalidInput, "'\(field)' must be a list of {kind, text, date}", location: location(field))
        }
        return try sequence.map { item in
            guard let mapping = item.mapping else {
                throw MastheadError(.invalidInput, "each of '\(field)' must be {kind, text, date}", location: location(field))
            }
            var entry: [String: (node: Node, line: Int)] = [:]
            for (key, value) in mapping { if let name = key.string { entry[name] = (value, (key.mark?.line ?? 0) + 1) } }
            let reader = FieldReader(values: entry, file: file, timeZone: timeZone)
            let kindText = try reader.string("kind") ?? Correction.Kind.correction.rawValue
            guard let kind = Correction.Kind(rawValue: kindText) else {
                throw MastheadError(.invalidInput, "a correction's kind is 'correction' or 'update', not '\(kindText)'", location: location(field))
            }
            guard let text = try reader.string("text"), !text.isEmpty else {
                throw MastheadError(.invalidInput, "a correction needs its text", location: location(field))
            }
            guard let date = try reader.date("date") else {
                throw MastheadError(.invalidInput, "a correction needs its date", location: location(field))
            }
            return ArticleSource.CorrectionSource(kind: kind, text: text, date: date)
        }
    }

    func list(_ field: String) throws -> [String] {
        guard let (node, _) = values[field] else { return [] }
        switch node {
        case .scalar(let scalar):
            // "A, B, C", or hashtags in one quoted string: "#China #Ukraine".
            let text = scalar.string
            let separators: Set<Character> = text.contains(",") ? [","] : text.hasPrefix("#") ? ["#"] : [","]
            return text.split(whereSeparator: { separators.contains($0) })
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        case .sequence(let sequence):
            return try sequence.map { item in
                guard case .scalar(let scalar) = item else {
                    throw MastheadError(.invalidInput, "each entry of '\(field)' must be plain text", location: location(field))
                }
                return scalar.string.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        default:
            throw MastheadError(.invalidInput, "'\(field)' must be a list, e.g. [One, Two]", location: location(field))
        }
    }

    func bool(_ field: String) throws -> Bool? {
        guard let text = try string(field) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw MastheadError(.invalidInput, "'\(field)' must be true or false, not '\(text)'", location: location(field))
        }
    }

    func date(_ field: String) throws -> Date? {
        guard let text = try string(field) else { return nil }
        guard let date = DateParsing.date(from: text, timeZone: timeZone) else {
            throw MastheadError(
                .invalidInput, "'\(text)' is not a date; write e.g. 2026-11-28 or 2026-11-28T14:30:00+01:00",
                location: location(field))
        }
        return date
    }
}

/// Reads the date forms front matter allows: a day, or a day and time with or without a zone.
public enum DateParsing {
    private static let zonedFormats = [
        "yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mmXXXXX",
        "yyyy-MM-dd HH:mm:ssXXXXX", "yyyy-MM-dd HH:mmXXXXX", "yyyy-MM-dd HH:mm:ss XXXXX",
        "yyyy-MM-dd'T'HH:mm:ssZ", "yyyy-MM-dd HH:mm:ss Z", "yyyy-MM-dd HH:mm Z", "EEE, dd MMM yyyy HH:mm:ss Z",
    ]
    private static let localFormats = [
        "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    ]

    /// The date `text` names, reading zone-less times in `timeZone`; nil when it is no date.
    public static func date(from text: String, timeZone: TimeZone) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.isLenient = false
        formatter.timeZone = timeZone
        for format in zonedFormats + localFormats {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

extension YamlError {
    fileprivate var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    fileprivate var problemText: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        case .duplicatedKeysInMapping(let duplicates, _): return "the field \(duplicates.joined(separator: ", ")) appears twice"
        default: return String(describing: self)
        }
    }
}

extension Array {
    /// The elements in order, without later ones whose key was already seen.
    public func uniqued<Key: Hashable>(by key: (Element) -> Key) -> [Element] {
        var seen = Set<Key>()
        return filter { seen.insert(key($0)).inserted }
    }
}

extension Date {
    /// The calendar day this moment falls on in `timeZone`, as `YYYY-MM-DD` (counts and tips are kept by day).
    public func day(in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: self)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
