import Foundation

/// What a newsroom account may do. Each role can do everything the one before it can.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Writes drafts and sends them for review; never publishes.
    case contributor
    /// Publishes, schedules and unpublishes their own articles.
    case author
    /// Edits and publishes anyone's articles; manages sections, tags, authors, corrections and media.
    case editor
    /// Also manages accounts (not the owner's), site settings and API keys.
    case admin
    /// The site's owner: one account that nobody else can demote, disable or reset.
    case owner

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    /// The roles an account of this role may give others.
    public var assignableRoles: [Role] {
        self >= .admin ? [.contributor, .author, .editor, .admin] : []
    }
}

/// A person who signs in to the newsroom.
public struct User: Sendable, Hashable, Codable {
    public var id: Int64
    public var email: String
    public var name: String
    public var role: Role
    /// The byline profile that credits this person, when there is one.
    public var authorID: Int64?
    /// Disabled accounts cannot sign in; their articles and bylines stay.
    public var isDisabled: Bool
    /// Whether a password has been set (invited accounts have none until they follow the link).
    public var hasPassword: Bool
    public var createdAt: Date

    public init(id: Int64, email: String, name: String, role: Role, authorID: Int64?, isDisabled: Bool, hasPassword: Bool, createdAt: Date) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.authorID = authorID
        self.isDisabled = isDisabled
        self.hasPassword = hasPassword
        self.createdAt = createdAt
    }

    /// Email addresses are compared without regard to case or surrounding space.
    public static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Whether `text` looks like an email address (one `@`, something on each side, a dot in the domain).
    public static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) && text.count <= 254
    }

    // MARK: Permissions

    /// Whether this user may change the article (its text, or its workflow state) at all.
    public func canEdit(_ article: ArticleSummary) -> Bool {
        if role >= .editor { return true }
        guard article.createdBy == id else { return false }
        return role >= .author || article.status == .draft || article.status == .review
    }

    /// Whether this user may publish, schedule or unpublish the article.
    public func canPublish(_ article: ArticleSummary) -> Bool {
        role >= .editor || (role == .author && article.createdBy == id)
    }

    /// Whether this user may delete the article.
    public func canDelete(_ article: ArticleSummary) -> Bool {
        if role >= .editor { return true }
        guard article.createdBy == id else { return false }
        return role >= .author || article.status != .published
    }

    /// Whether this user may change `other`'s account (role, disabling, password link).
    public func canManage(_ other: User) -> Bool {
        guard role >= .admin, other.id != id else { return false }
        return other.role != .owner
    }

    /// The rule passwords must meet; nil when `password` is acceptable.
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < 12 { return "The password must be at least 12 characters long." }
        if password.utf8.count > 72 { return "The password must be at most 72 bytes long (bcrypt reads no further)." }
        return nil
    }
}

/// The editable parts of an article, as the editor and the Admin API send them.
public struct ArticleContent: Sendable, Hashable, Codable {
    public var title: String
    public var summary: String
    public var bodyMarkdown: String
    /// Empty means "make one from the title".
    public var slug: String
    public var sectionID: Int64
    public var tagNames: [String]
    public var authorIDs: [Int64]
    public var image: FeaturedImage?
    public var disclaimer: Bool
    /// Headline and description for search engines and social cards; empty uses title and dek.
    public var seoTitle: String
    public var seoDescription: String

    public init(
        title: String, summary: String = "", bodyMarkdown: String = "", slug: String = "", sectionID: Int64,
        tagNames: [String] = [], authorIDs: [Int64] = [], image: FeaturedImage? = nil, disclaimer: Bool = false,
        seoTitle: String = "", seoDescription: String = ""
    ) {
        self.title = title
        self.summary = summary
        self.bodyMarkdown = bodyMarkdown
        self.slug = slug
        self.sectionID = sectionID
        self.tagNames = tagNames
        self.authorIDs = authorIDs
        self.image = image
        self.disclaimer = disclaimer
        self.seoTitle = seoTitle
        self.seoDescription = seoDescription
    }

    /// Checks the fields a person can get wrong; the first problem names its field.
    public func validated() throws -> ArticleContent {
        var content = self
        content.title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        content.summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        content.slug = slug.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        content.seoTitle = seoTitle.trimmingCharacters(in: .whitespacesAndNewlines)
        content.seoDescription = seoDescription.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !content.title.isEmpty else { throw MastheadError(.invalidInput, "the headline is empty", location: .init(field: "title")) }
        guard content.title.count <= 300 else { throw MastheadError(.invalidInput, "the headline is longer than 300 characters", location: .init(field: "title")) }
        guard content.summary.count <= 1000 else { throw MastheadError(.invalidInput, "the dek is longer than 1,000 characters", location: .init(field: "summary")) }
        guard content.bodyMarkdown.utf8.count <= 2_000_000 else { throw MastheadError(.invalidInput, "the body is larger than 2 MB", location: .init(field: "body")) }
        if content.slug.isEmpty { content.slug = Slug.make(from: content.title) }
        guard Slug.isValid(content.slug) else {
            throw MastheadError(.invalidInput, "'\(content.slug)' is not a valid slug: use lower-case letters, digits and hyphens", location: .init(field: "slug"))
        }
        content.title = try PlainText.checked(content.title, field: "title", label: "the headline", maxLength: 300)
        content.summary = try PlainText.checked(content.summary, field: "summary", label: "the dek", maxLength: 1_000, multiline: true)
        content.seoTitle = try PlainText.checked(content.seoTitle, field: "seo_title", label: "the search headline", maxLength: 300)
        content.seoDescription = try PlainText.checked(content.seoDescription, field: "seo_description", label: "the search description", maxLength: 1_000)
        guard tagNames.count <= 50 else { throw MastheadError(.invalidInput, "an article may have at most 50 tags", location: .init(field: "tags")) }
        guard authorIDs.count <= 20 else { throw MastheadError(.invalidInput, "an article may have at most 20 authors", location: .init(field: "authors")) }
        content.tagNames = try tagNames.map { try PlainText.checked($0, field: "tags", label: "a tag", maxLength: 100) }.filter { !$0.isEmpty }
        for tag in content.tagNames where Slug.make(from: tag).isEmpty {
            throw MastheadError(.invalidInput, "'\(tag)' cannot be a tag", location: .init(field: "tags"))
        }
        var seenTags = Set<String>()
        content.tagNames = content.tagNames.filter { seenTags.insert(Slug.make(from: $0)).inserted }
        var seenAuthors = Set<Int64>()
        content.authorIDs = authorIDs.filter { seenAuthors.insert($0).inserted }
        if let image = content.image {
            content.image?.alt = try PlainText.checked(image.alt, field: "image_alt", label: "the image's alt text", maxLength: 1_000)
            content.image?.caption = try PlainText.checked(image.caption, field: "image_caption", label: "the caption", maxLength: 2_000, multiline: true)
            content.image?.credit = try PlainText.checked(image.credit, field: "image_credit", label: "the credit", maxLength: 300)
            guard !image.alt.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw MastheadError(.invalidInput, "the featured image needs alt text describing it for readers who cannot see it", location: .init(field: "image_alt"))
            }
        }
        return content
    }
}

/// An article as the newsroom lists it: enough to decide who may do what.
public struct ArticleSummary: Sendable, Hashable, Codable {
    public var id: Int64
    public var slug: String
    public var title: String
    public var status: ArticleStatus
    public var section: Section
    public var authorNames: [String]
    /// The account that created the article (nil for imported articles).
    public var createdBy: Int64?
    /// The publication time (the scheduled time for scheduled articles).
    public var publishedAt: Date
    public var modifiedAt: Date
    /// The name of the account that saved last, when known.
    public var modifiedByName: String?
    /// Grows by one with every save of the text; a save must name the version it was based on.
    public var version: Int

    public init(
        id: Int64, slug: String, title: String, status: ArticleStatus, section: Section, authorNames: [String],
        createdBy: Int64?, publishedAt: Date, modifiedAt: Date, modifiedByName: String?, version: Int
    ) {
        self.id = id
        self.slug = slug
        self.title = title
        self.status = status
        self.section = section
        self.authorNames = authorNames
        self.createdBy = createdBy
        self.publishedAt = publishedAt
        self.modifiedAt = modifiedAt
        self.modifiedByName = modifiedByName
        self.version = version
    }

    public var path: String { "/\(section.slug)/\(slug)/" }
}

/// An article as the editor opens it: its state and its editable content.
public struct EditableArticle: Sendable, Hashable, Codable {
    public var summary: ArticleSummary
    public var content: ArticleContent
    public var corrections: [Correction]

    public init(summary: ArticleSummary, content: ArticleContent, corrections: [Correction]) {
        self.summary = summary
        self.content = content
        self.corrections = corrections
    }
}

/// Thrown when a save is based on an older version than the stored one. Nothing was written.
public struct EditConflict: Error, Sendable, CustomStringConvertible {
    public var currentVersion: Int
    public var changedBy: String
    public var changedAt: Date
    /// The revision that keeps the refused text, so it is never lost.
    public var keptRevision: Int64?

    public init(currentVersion: Int, changedBy: String, changedAt: Date, keptRevision: Int64?) {
        self.currentVersion = currentVersion
        self.changedBy = changedBy
        self.changedAt = changedAt
        self.keptRevision = keptRevision
    }

    public func message(timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = timeZone
        formatter.dateFormat = "d MMM yyyy, HH:mm:ss"
        return "This article was changed by \(changedBy) at \(formatter.string(from: changedAt)) (\(timeZone.identifier)) after you opened it, so your save was not applied over their changes. Your text is kept below and as a revision; compare it with theirs before saving again."
    }

    public var description: String { "edit conflict: changed by \(changedBy) at \(changedAt)" }
}

/// One saved state of an article's text.
public struct Revision: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A save that became the article's text.
        case save
        /// A save refused because someone else had saved first, kept so nothing is lost.
        case conflict
        /// The text put back from an earlier revision.
        case restore
        /// The text an import brought (Markdown, WordPress, Ghost). When the newsroom had edited
        /// the story since its last import, the import is kept only as this revision.
        case `import`
    }

    public var id: Int64
    public var articleID: Int64
    public var version: Int
    public var kind: Kind
    public var userName: String
    public var createdAt: Date
    public var content: ArticleContent

    public init(id: Int64, articleID: Int64, version: Int, kind: Kind, userName: String, createdAt: Date, content: ArticleContent) {
        self.id = id
        self.articleID = articleID
        self.version = version
        self.kind = kind
        self.userName = userName
        self.createdAt = createdAt
        self.content = content
    }
}

/// An image in the media library.
public struct MediaItem: Sendable, Hashable, Codable {
    public var id: Int64
    /// The path under the media folder, e.g. `uploads/2026/11/harbour-k3x9.jpg`.
    public var path: String
    /// The file name as uploaded.
    public var originalName: String
    public var format: String
    public var width: Int
    public var height: Int
    public var bytes: Int
    public var alt: String
    public var caption: String
    public var credit: String
    public var placeholder: String?
    public var uploadedBy: String?
    public var createdAt: Date

    public init(
        id: Int64, path: String, originalName: String, format: String, width: Int, height: Int, bytes: Int, alt: String,
        caption: String, credit: String, placeholder: String?, uploadedBy: String?, createdAt: Date
    ) {
        self.id = id
        self.path = path
        self.originalName = originalName
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.alt = alt
        self.caption = caption
        self.credit = credit
        self.placeholder = placeholder
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
    }

    /// The featured image this item makes, with its stored words.
    public var featuredImage: FeaturedImage {
        FeaturedImage(source: path, alt: alt, caption: caption, credit: credit, width: width, height: height, placeholder: placeholder)
    }
}

/// An Admin API key: the secret itself is shown once and stored only as a hash.
public struct APIKey: Sendable, Hashable, Codable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    /// The key's first characters, to tell keys apart.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(id: Int64, userID: Int64, name: String, prefix: String, createdAt: Date, lastUsedAt: Date?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
