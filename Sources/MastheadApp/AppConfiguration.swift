import Configuration
import Foundation
import Logging
import MastheadCore
import MastheadImaging
import MastheadStorage
import NIOCore
import SystemPackage

/// Everything the server needs to know, read once at start from the configuration file,
/// `MASTHEAD_*` environment variables and command-line options (in rising priority).
///
/// See docs/configuration.md for every key.
public struct AppConfiguration: Sendable {
    public var site: SiteSettings
    /// Where the site keeps its database (by default) and media.
    public var dataDirectory: String
    public var database: DatabaseURL
    public var host: String
    public var port: Int
    /// The theme folder, holding `templates/` and `assets/`.
    public var themeDirectory: String
    /// Whether raw HTML in Markdown bodies is passed through instead of shown as text.
    public var trustsHTML: Bool
    public var logLevel: Logger.Level
    /// What images are accepted (file size, pixels, frames).
    public var imageLimits: ImageLimits
    /// The most disk the image variant cache may use.
    public var imageCacheBytes: Int
    /// The key that signs image URLs; when nil, one is kept in the data folder.
    public var imageSecret: Data?
    /// The root of the keys instances must share (tip forms, client limits, image addresses when
    /// no `imageSecret` is set): required on PostgreSQL, where several instances may serve.
    public var secret: Data?
    /// Whether feeds carry whole articles (true) or only summaries.
    public var feedsFullText: Bool
    /// The most memory rendered pages may take (`page_cache_mb`); 0 caches none.
    public var pageCacheBytes = 128 * 1_048_576
    /// The longest a page is served from the cache before it is rendered again (`page_cache_seconds`).
    public var pageCacheSeconds = 300
    /// Origins whose pages may call the APIs from a browser; `*` for any.
    public var apiCORSOrigins: [String] = ["*"]
    /// The newsroom's folder, holding its `templates/` and `assets/`.
    public var adminDirectory: String = "Admin"
    /// Session length and brute-force limits for newsroom sign-in.
    public var signIn = SignInPolicy()
    /// What readers are asked to consent to (`consent_file`, or the standard categories).
    public var consentPolicy = ConsentPolicy()
    /// What the tip line accepts and how long it keeps tips.
    public var tipLimits = TipLimits()
    /// The site's `http://….onion` address, if it has one (announced on the tip line).
    public var onionAddress: String?
    /// Reverse proxies whose `X-Forwarded-For` names the client (for rate limits only).
    public var trustedProxies: Set<String> = []
    /// Whether webhooks may be sent to loopback, private, link-local and unique-local addresses
    /// (`webhooks_allow_private`); off, so that an admin cannot probe the internal network.
    public var webhooksAllowPrivateAddresses = false

    /// The folder of uploaded and imported images, served under `/media/`.
    public var mediaDirectory: String { dataDirectory + "/media" }
    /// The folder of image variants made from media.
    public var imageCacheDirectory: String { dataDirectory + "/cache/images" }

    public init(
        site: SiteSettings = SiteSettings(), dataDirectory: String = "data", database: DatabaseURL? = nil,
        host: String = "127.0.0.1", port: Int = 8080, themeDirectory: String = "Themes/default",
        trustsHTML: Bool = false, logLevel: Logger.Level = .info, imageLimits: ImageLimits = ImageLimits(),
        imageCacheBytes: Int = 1024 * 1024 * 1024, imageSecret: Data? = nil, feedsFullText: Bool = true
    ) {
        self.site = site
        self.dataDirectory = dataDirectory
        self.database = database ?? .sqlite(path: dataDirectory + "/masthead.sqlite")
        self.host = host
        self.port = port
        self.themeDirectory = themeDirectory
        self.trustsHTML = trustsHTML
        self.logLevel = logLevel
        self.imageLimits = imageLimits
        self.imageCacheBytes = imageCacheBytes
        self.imageSecret = imageSecret
        self.feedsFullText = feedsFullText
    }

    /// The default configuration file, read when it exists and no other is named.
    public static let defaultFile = "masthead.yaml"

    /// Reads the configuration from `file` (or `masthead.yaml` if present, or `MASTHEAD_CONFIG`),
    /// then the environment, then `overrides` (from command-line options).
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:]
    ) async throws -> AppConfiguration {
        var providers: [any ConfigProvider] = []
        providers.append(InMemoryProvider(values: overrides.reduce(into: [:]) { values, pair in
            values[AbsoluteConfigKey(pair.key.split(separator: ".").map(String.init))] = ConfigValue(.string(pair.value), isSecret: false)
        }))
        providers.append(EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ["masthead"]))
        let path = file ?? environment["MASTHEAD_CONFIG"]
        if let path {
            guard FileManager.default.fileExists(atPath: path) else {
                throw MastheadError(.configuration, "configuration file \(path) does not exist")
            }
        }
        do {
            providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path ?? defaultFile), allowMissing: path == nil))
        } catch {
            throw MastheadError(.configuration, "configuration file \(path ?? defaultFile) cannot be read: \(error)")
        }
        return try AppConfiguration(reader: ConfigReader(providers: providers))
    }

    /// Reads and checks every key; the first bad value throws an error naming it.
    public init(reader config: ConfigReader) throws {
        let keys = KeyReader(config: config)
        let defaults = SiteSettings()
        let timeZoneName = try keys.string("time_zone") ?? "UTC"
        guard let timeZone = TimeZone(identifier: timeZoneName) else {
            throw keys.error("time_zone", "'\(timeZoneName)' is not a time zone name such as Europe/Berlin or America/New_York")
        }
        var baseURL = try keys.string("base_url") ?? ""
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        let port = try keys.int("port") ?? 8080
        guard (1...65535).contains(port) else { throw keys.error("port", "\(port) is not a TCP port (1–65535)") }
        let host = try keys.string("host") ?? "127.0.0.1"
        if baseURL.isEmpty {
            baseURL = "http://\(host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host):\(port)"
        }
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw keys.error("base_url", "'\(baseURL)' is not an http:// or https:// address")
        }
        let levelName = try keys.string("log_level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw keys.error("log_level", "'\(levelName)' is not one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let dataDirectory = try keys.string("data_dir") ?? "data"
        let database: DatabaseURL? = try keys.string("database_url").map { try DatabaseURL(parsing: $0) }
        let defaultLimits = ImageLimits()
        let imageLimits = ImageLimits(
            maxBytes: try keys.positive("image_max_mb").map { $0 * 1_048_576 } ?? defaultLimits.maxBytes,
            maxPixels: try keys.positive("image_max_megapixels").map { $0 * 1_000_000 } ?? defaultLimits.maxPixels,
            maxDimension: defaultLimits.maxDimension,
            maxFrames: try keys.positive("image_max_frames") ?? defaultLimits.maxFrames)
        let secret = config.string(forKey: "image_secret", isSecret: true)
        if let secret, secret.utf8.count < 32 {
            throw keys.error("image_secret", "the image signing secret must be at least 32 characters")
        }
        let siteSecret = config.string(forKey: "secret", isSecret: true)
        if let siteSecret, siteSecret.utf8.count < 32 {
            throw keys.error("secret", "the secret must be at least 32 characters (e.g. the output of: openssl rand -base64 32)")
        }
        var configuration = AppConfiguration(
            site: SiteSettings(
                title: try keys.string("title") ?? defaults.title,
                tagline: try keys.string("tagline") ?? defaults.tagline,
                baseURL: baseURL,
                language: try keys.string("language") ?? defaults.language,
                timeZone: timeZone,
                disclaimer: try keys.string("disclaimer") ?? defaults.disclaimer,
                tipPrompt: try keys.string("tip_prompt") ?? defaults.tipPrompt,
                showsImageCredit: try keys.bool("image_credit") ?? true,
                logoPath: try keys.string("logo") ?? "/assets/logo.png"),
            dataDirectory: dataDirectory,
            database: database,
            host: host,
            port: port,
            themeDirectory: try keys.string("theme") ?? "Themes/default",
            trustsHTML: try keys.bool("trust_html") ?? false,
            logLevel: level,
            imageLimits: imageLimits,
            imageCacheBytes: (try keys.positive("image_cache_mb") ?? 1024) * 1_048_576,
            imageSecret: secret.map { Data($0.utf8) },
            feedsFullText: try keys.bool("feed_full_text") ?? true)
        configuration.secret = siteSecret.map { Data($0.utf8) }
        if let origins = try keys.string("api_cors_origins") {
            let list = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for origin in list where origin != "*" {
                guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.path.isEmpty else {
                    throw keys.error("api_cors_origins", "'\(origin)' is not an origin such as https://app.example.org (or *)")
                }
            }
            configuration.apiCORSOrigins = list
        }
        configuration.adminDirectory = try keys.string("admin_dir") ?? "Admin"
        if let megabytes = try keys.int("page_cache_mb") {
            guard megabytes >= 0 else { throw keys.error("page_cache_mb", "\(megabytes) must be 0 (no page cache) or more") }
            configuration.pageCacheBytes = megabytes * 1_048_576
        }
        if let seconds = try keys.positive("page_cache_seconds") { configuration.pageCacheSeconds = seconds }
        if let files = try keys.positive("tips_max_files") { configuration.tipLimits.maxFiles = files }
        if let megabytes = try keys.positive("tips_max_mb") { configuration.tipLimits.maxFileBytes = megabytes * 1_048_576 }
        if let days = try keys.positive("tips_retention_days") { configuration.tipLimits.retentionDays = days }
        if let onion = try keys.string("onion_address") {
            var address = onion
            while address.hasSuffix("/") { address.removeLast() }
            guard let url = URL(string: address), ["http", "https"].contains(url.scheme ?? ""), url.host?.hasSuffix(".onion") == true else {
                throw keys.error("onion_address", "'\(onion)' is not an address such as http://example2xyz….onion")
            }
            configuration.onionAddress = address
        }
        if let proxies = try keys.string("trusted_proxies") {
            for proxy in proxies.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).filter({ !$0.isEmpty }) {
                guard (try? SocketAddress(ipAddress: proxy, port: 0)) != nil else {
                    throw keys.error("trusted_proxies", "'\(proxy)' is not an IP address such as 127.0.0.1 or ::1")
                }
                configuration.trustedProxies.insert(proxy)
            }
        }
        if let file = try keys.string("consent_file") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw keys.error("consent_file", "the file \(file) cannot be read")
            }
            configuration.consentPolicy = try ConsentPolicy.parse(text, file: file)
        }
        if let hours = try keys.positive("session_hours") { configuration.signIn.sessionLifetime = TimeInterval(hours) * 3600 }
        if let days = try keys.positive("session_max_days") { configuration.signIn.sessionMaxAge = TimeInterval(days) * 86_400 }
        if let allow = try keys.bool("webhooks_allow_private") { configuration.webhooksAllowPrivateAddresses = allow }
        if let limit = try keys.positive("login_max_failures") { configuration.signIn.accountLimit = limit }
        if let minutes = try keys.positive("login_lockout_minutes") { configuration.signIn.lockout = TimeInterval(minutes) * 60 }
        self = configuration
    }
}

/// Reads one key from any source as text and converts it, so every error can name the key.
private struct KeyReader {
    var config: ConfigReader

    func error(_ key: String, _ message: String) -> MastheadError {
        let variable = "MASTHEAD_" + key.uppercased()
        return MastheadError(.configuration, "\(message) (configuration key '\(key)', environment variable \(variable))", location: .init(field: key))
    }

    func string(_ key: String) throws -> String? {
        if let text = config.string(forKey: ConfigKey(key)) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        if let number = config.int(forKey: ConfigKey(key)) { return String(number) }
        if let flag = config.bool(forKey: ConfigKey(key)) { return String(flag) }
        return nil
    }

    func int(_ key: String) throws -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text) else { throw error(key, "'\(text)' is not a whole number") }
        return number
    }

    func positive(_ key: String) throws -> Int? {
        guard let number = try int(key) else { return nil }
        guard number > 0 else { throw error(key, "\(number) must be above zero") }
        return number
    }

    func bool(_ key: String) throws -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(key, "'\(text)' is not true or false")
        }
    }
}
