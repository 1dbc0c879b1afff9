import Foundation
import Yams

/// A third party a consent category involves: who it is, what it loads and where from.
public struct ConsentService: Sendable, Hashable, Codable {
    public var name: String
    /// What the service does for the site, in a few words.
    public var purpose: String
    public var privacyURL: String
    /// Origins the service loads from (`https://www.youtube-nocookie.com`); added to the
    /// Content-Security-Policy only once its category is granted.
    public var origins: [String]
    /// A script the theme loads for this service once its category is granted, if any.
    public var script: String?

    public init(name: String, purpose: String, privacyURL: String, origins: [String], script: String? = nil) {
        self.name = name
        self.purpose = purpose
        self.privacyURL = privacyURL
        self.origins = origins
        self.script = script
    }
}

/// A purpose readers can agree to or refuse, with everything they need to decide.
public struct ConsentCategory: Sendable, Hashable, Codable {
    /// A short name used in cookies, records and templates (`audience`, `media`, `marketing`).
    public var id: String
    public var name: String
    public var description: String
    /// What is stored on the reader's device, and for how long.
    public var storage: String
    public var services: [ConsentService]

    public init(id: String, name: String, description: String, storage: String, services: [ConsentService]) {
        self.id = id
        self.name = name
        self.description = description
        self.storage = storage
        self.services = services
    }
}

/// What the site asks readers to agree to. Changing the version asks everyone again.
public struct ConsentPolicy: Sendable, Hashable {
    public var version: Int
    /// A choice is asked again after this long.
    public var renewAfter: TimeInterval
    /// Always on: what the site needs to work (and to remember the choice).
    public var necessary: String
    public var categories: [ConsentCategory]

    public init(version: Int = 1, renewAfter: TimeInterval = 182 * 86_400, necessary: String = ConsentPolicy.standardNecessary, categories: [ConsentCategory] = ConsentPolicy.standardCategories) {
        self.version = version
        self.renewAfter = renewAfter
        self.necessary = necessary
        self.categories = categories
    }

    public var categoryIDs: [String] { categories.map(\.id) }

    public static let standardNecessary =
        "Needed for the site to work and to remember your choice. Stores one cookie, masthead_consent, with your choice and a random id (no personal data), for 6 months. Always on."

    public static let standardCategories: [ConsentCategory] = [
        ConsentCategory(
            id: "audience", name: "Audience measurement",
            description: "Lets a measurement service count visits to help us understand which stories readers find useful. (Our own page counts need no consent: they store nothing on your device and keep no personal data.)",
            storage: "Depends on the service; none is configured on this site.", services: []),
        ConsentCategory(
            id: "media", name: "Embedded media",
            description: "Shows videos and posts from other sites inside our articles. Those sites see your visit and may store cookies on your device.",
            storage: "Cookies and local storage set by the embedded site, for as long as that site decides (YouTube: up to 6 months).",
            services: [
                ConsentService(name: "YouTube (Google)", purpose: "Videos", privacyURL: "https://policies.google.com/privacy", origins: ["https://www.youtube-nocookie.com"]),
                ConsentService(name: "Vimeo", purpose: "Videos", privacyURL: "https://vimeo.com/privacy", origins: ["https://player.vimeo.com"]),
                ConsentService(name: "X (Twitter)", purpose: "Posts", privacyURL: "https://x.com/en/privacy", origins: ["https://platform.twitter.com"]),
            ]),
        ConsentCategory(
            id: "marketing", name: "Marketing",
            description: "Lets advertising partners show and measure advertisements, which may follow you across sites.",
            storage: "Depends on the partner; none is configured on this site.", services: []),
    ]

    /// Reads a policy from YAML (`consent_file`); problems name the file, line and field.
    public static func parse(_ text: String, file: String) throws -> ConsentPolicy {
        struct File: Decodable {
            var version: Int?
            var renew_days: Int?
            var necessary: String?
            var categories: [Category]?
            struct Category: Decodable {
                var id: String
                var name: String
                var description: String
                var storage: String
                var services: [Service]?
            }
            struct Service: Decodable {
                var name: String
                var purpose: String
                var privacy_url: String
                var origins: [String]?
                var script: String?
            }
        }
        let decoded: File
        do {
            decoded = try YAMLDecoder().decode(File.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw MastheadError(.configuration, "'\(key.stringValue)' is missing at \(Self.path(context.codingPath))", location: .init(file: file, field: key.stringValue))
        } catch let DecodingError.typeMismatch(_, context) {
            throw MastheadError(.configuration, "\(Self.path(context.codingPath)) has the wrong type", location: .init(file: file, field: context.codingPath.last?.stringValue))
        } catch {
            throw MastheadError(.configuration, "cannot be read as a consent policy: \(error)", location: .init(file: file))
        }
        var policy = ConsentPolicy()
        if let version = decoded.version {
            guard version > 0 else { throw MastheadError(.configuration, "version must be 1 or more", location: .init(file: file, field: "version")) }
            policy.version = version
        }
        if let days = decoded.renew_days {
            guard (1...395).contains(days) else { throw MastheadError(.configuration, "renew_days must be 1–395 (13 months at most)", location: .init(file: file, field: "renew_days")) }
            policy.renewAfter = TimeInterval(days) * 86_400
        }
        if let necessary = decoded.necessary { policy.necessary = necessary }
        if let categories = decoded.categories {
            policy.categories = try categories.map { category in
                guard category.id.range(of: "^[a-z][a-z0-9]{0,19}$", options: .regularExpression) != nil else {
                    throw MastheadError(.configuration, "category id '\(category.id)' must be lower-case letters and digits", location: .init(file: file, field: "id"))
                }
                return ConsentCategory(
                    id: category.id, name: category.name, description: category.description, storage: category.storage,
                    services: try (category.services ?? []).map { service in
                        for origin in service.origins ?? [] {
                            guard let url = URL(string: origin), url.scheme == "https", url.host != nil, url.path.isEmpty else {
                                throw MastheadError(.configuration, "'\(origin)' is not an https:// origin", location: .init(file: file, field: "origins"))
                            }
                        }
                        return ConsentService(
                            name: service.name, purpose: service.purpose, privacyURL: service.privacy_url, origins: service.origins ?? [], script: service.script)
                    })
            }
            guard Set(policy.categoryIDs).count == policy.categories.count else {
                throw MastheadError(.configuration, "two categories share an id", location: .init(file: file, field: "id"))
            }
        }
        return policy
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A reader's choice as this request shows it: from the consent cookie, overridden by Global
/// Privacy Control or Do Not Track, which count as "Reject all".
public struct ConsentState: Sendable, Hashable {
    /// Whether the reader has chosen under the current policy (and not too long ago).
    public var decided: Bool
    public var granted: Set<String>
    /// The browser sent `Sec-GPC: 1` or `DNT: 1`.
    public var privacySignal: Bool
    /// The random id of the reader's consent record, to ask for its deletion.
    public var consentID: String?

    public init(decided: Bool, granted: Set<String>, privacySignal: Bool, consentID: String?) {
        self.decided = decided
        self.granted = granted
        self.privacySignal = privacySignal
        self.consentID = consentID
    }

    public static let cookieName = "masthead_consent"

    /// The state for a request's consent cookie value and privacy headers.
    public init(cookie: String?, globalPrivacyControl: String?, doNotTrack: String?, policy: ConsentPolicy, now: Date = .now) {
        let signal = globalPrivacyControl?.trimmingCharacters(in: .whitespaces) == "1" || doNotTrack?.trimmingCharacters(in: .whitespaces) == "1"
        var decided = false
        var granted = Set<String>()
        var id: String?
        if let cookie, let parsed = Self.parse(cookie), parsed.version == policy.version,
           now.timeIntervalSince(parsed.givenAt) < policy.renewAfter, parsed.givenAt.timeIntervalSince(now) < 300 {
            decided = true
            granted = parsed.granted.intersection(policy.categoryIDs)
            id = parsed.id
        }
        if signal { granted = [] }
        self.init(decided: decided || signal, granted: granted, privacySignal: signal, consentID: id)
    }

    /// `v<version>.<unix time>.<granted, '-'-joined, or none>.<id>`: only cookie-safe characters.
    public static func cookieValue(version: Int, givenAt: Date, granted: Set<String>, id: String) -> String {
        let list = granted.isEmpty ? "none" : granted.sorted().joined(separator: "-")
        return "v\(version).\(Int(givenAt.timeIntervalSince1970)).\(list).\(id)"
    }

    public static func parse(_ value: String) -> (version: Int, givenAt: Date, granted: Set<String>, id: String)? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].hasPrefix("v"), let version = Int(parts[0].dropFirst()), let time = Int(parts[1]),
              parts[3].count >= 8, parts[3].count <= 64, parts[3].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        let granted = parts[2] == "none" ? Set<String>() : Set(parts[2].split(separator: "-").map(String.init))
        return (version, Date(timeIntervalSince1970: TimeInterval(time)), granted, String(parts[3]))
    }

    /// Pages differ by consent (the notice, gated content): the page cache keeps one copy per state.
    public var variantKey: String {
        if privacySignal { return "signal" }
        if !decided { return "ask" }
        return "g:" + granted.sorted().joined(separator: ",")
    }

    public func allows(_ category: String) -> Bool { granted.contains(category) }

    /// The same choice with nothing granted: for pages that load nothing from other sites whatever
    /// the reader agreed to (the tip line).
    public var withoutGrants: ConsentState {
        ConsentState(decided: decided, granted: [], privacySignal: privacySignal, consentID: consentID)
    }

    /// The state of the request being handled (set once per request by the server).
    @TaskLocal public static var current = ConsentState(decided: false, granted: [], privacySignal: false, consentID: nil)
}
