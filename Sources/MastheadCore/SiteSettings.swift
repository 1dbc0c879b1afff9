import Foundation
import Synchronization

/// What a site says about itself: its name, address, language and the standing texts of its pages.
public struct SiteSettings: Sendable, Equatable {
    public var title: String
    /// One line under the site's name, also the home page's description.
    public var tagline: String
    /// The public address, without a trailing slash, e.g. `https://news.example.org`.
    public var baseURL: String
    /// BCP 47 language tag for `<html lang>`.
    public var language: String
    public var timeZone: TimeZone
    /// The author-views note shown under articles marked `disclaimer: true`.
    public var disclaimer: String
    /// The invitation to send a tip, shown on every article.
    public var tipPrompt: String
    /// Whether the footer says "Images optimised by Masthead".
    public var showsImageCredit: Bool
    /// The publisher's logo (a path on the site or a URL), 600×60 pixels, for structured data.
    public var logoPath: String

    public init(
        title: String = "The Masthead Courier",
        tagline: String = "Independent news, carefully reported",
        baseURL: String = "http://127.0.0.1:8080",
        language: String = "en",
        timeZone: TimeZone = TimeZone(identifier: "UTC")!,
        disclaimer: String = SiteSettings.defaultDisclaimer,
        tipPrompt: String = "Have a tip we should know?",
        showsImageCredit: Bool = true,
        logoPath: String = "/assets/logo.png"
    ) {
        self.title = title
        self.tagline = tagline
        self.baseURL = baseURL
        self.language = language
        self.timeZone = timeZone
        self.disclaimer = disclaimer
        self.tipPrompt = tipPrompt
        self.showsImageCredit = showsImageCredit
        self.logoPath = logoPath
    }

    public static let defaultDisclaimer =
        "The views and opinions expressed in this article belong solely to the author and do not necessarily reflect those of the publication."

    /// The absolute URL of a site path such as `/world/` (a full URL is returned as it is).
    public func absoluteURL(_ path: String) -> String {
        path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
    }
}

extension SiteSettings {
    /// The settings newsroom admins may change in the browser, by the name they are stored under.
    public static let editableNames = ["title", "tagline", "disclaimer", "tip_prompt"]

    /// These settings with the admin's stored changes applied over them.
    public func applying(_ overrides: [String: String]) -> SiteSettings {
        var settings = self
        for (name, value) in overrides where !value.isEmpty {
            switch name {
            case "title": settings.title = value
            case "tagline": settings.tagline = value
            case "disclaimer": settings.disclaimer = value
            case "tip_prompt": settings.tipPrompt = value
            default: continue
            }
        }
        return settings
    }

    /// The value of an editable setting by its stored name.
    public func value(named name: String) -> String {
        switch name {
        case "title": title
        case "tagline": tagline
        case "disclaimer": disclaimer
        case "tip_prompt": tipPrompt
        default: ""
        }
    }
}

/// The site's settings as they stand now: the configuration's, with the admins' changes over them.
/// Shared by everything that renders, and swapped whole when an admin saves.
public final class LiveSiteSettings: Sendable {
    public let base: SiteSettings
    private let state: Mutex<SiteSettings>

    public init(_ base: SiteSettings) {
        self.base = base
        state = Mutex(base)
    }

    public var current: SiteSettings { state.withLock { $0 } }

    /// Applies the admins' stored changes over the configured settings.
    public func update(overrides: [String: String]) {
        let settings = base.applying(overrides)
        state.withLock { $0 = settings }
    }
}
