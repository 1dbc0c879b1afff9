import Foundation
import MastheadCore

// View models: plain values the templates read. Each page view carries a `frame` with what the
// layout needs (site name, navigation, meta tags), and the fields of its own template.

/// What the shared layout shows on every page.
public struct FrameView: Sendable {
    public var siteTitle: String
    public var siteTagline: String
    public var language: String
    /// The `<title>`: the page's own title, then the site's.
    public var documentTitle: String
    public var description: String
    public var canonicalURL: String
    public var navigation: [NavigationItem]
    public var assetsVersion: String
    public var tipPrompt: String
    public var showsImageCredit: Bool
    public var year: String
    /// Whether the site's name is the page's `h1` (home) or a link in the header (elsewhere).
    public var isHome: Bool
    /// Feeds for `<link rel="alternate">`: this list's (when the page is one) and the site's.
    public var feeds: [FeedLinkView]
    /// Structured data (schema.org JSON-LD) for search engines, already safe inside `<script>`.
    public var structuredData: String?
    /// The reader's consent: whether to ask, and what non-essential content may load.
    public var consent: ConsentView = ConsentView()
}

/// What the layout needs about consent. Themes wrap non-essential content in
/// `{{#frame.consent.granted.<category>}}…{{/frame.consent.granted.<category>}}`: the server
/// leaves it out of the page until the reader grants that category.
public struct ConsentView: Sendable {
    /// No choice yet (or it expired, or the policy changed): show the first-layer notice.
    public var showNotice = false
    /// The browser sent Global Privacy Control or Do Not Track: say it counts as "Reject all".
    public var privacySignal = false
    /// Category id → granted, for template sections.
    public var granted: [String: Bool] = [:]
    /// Scripts of granted services, for the layout to load.
    public var scripts: [String] = []
    /// The page to come back to after choosing.
    public var returnPath = "/"

    public init() {}

    public init(state: ConsentState, policy: ConsentPolicy, path: String) {
        showNotice = !state.decided
        privacySignal = state.privacySignal
        granted = Dictionary(uniqueKeysWithValues: policy.categoryIDs.map { ($0, state.allows($0)) })
        scripts = policy.categories.filter { state.allows($0.id) }.flatMap(\.services).compactMap(\.script)
        returnPath = path
    }
}

/// A feed the page announces.
public struct FeedLinkView: Sendable {
    public var title: String
    public var type: String
    public var url: String
}

/// One link in the section navigation.
public struct NavigationItem: Sendable {
    public var name: String
    public var path: String
    /// Marks the section the reader is in, for `aria-current`.
    public var isCurrent: Bool
}

/// A time as the page shows it: machine-readable and in words, in the site's time zone.
public struct TimeView: Sendable {
    public var iso: String
    public var text: String
}

/// A link with a label: bylines, tags, sections.
public struct LinkView: Sendable {
    public var name: String
    public var path: String
    /// What follows this item when listed in a sentence: ", ", " and " or nothing.
    public var separator: String
}

/// A picture with the words that go with it, and the sizes a browser may choose from.
public struct ImageView: Sendable {
    /// The `src`: a mid-sized variant, or the picture's own address when it is hosted elsewhere.
    public var url: String
    /// The same picture with the site's origin, for metadata other sites read.
    public var absoluteURL: String
    /// `srcset` candidates ("/img/…/w640/… 640w, …"), when the site can resize the picture.
    public var srcset: String?
    /// The `sizes` attribute that goes with `srcset`.
    public var sizes: String?
    /// Inline style painting a tiny blurred copy until the picture arrives.
    public var placeholderStyle: String?
    public var alt: String
    public var caption: String?
    public var credit: String?
    /// The displayed picture's pixel size (its aspect ratio stops the page jumping as it loads).
    public var width: Int?
    public var height: Int?
    public var hasFigcaption: Bool
}

/// An article in a list: a headline that links, its dek, section and time.
public struct ArticleCardView: Sendable {
    public var title: String
    public var path: String
    public var summary: String?
    public var section: LinkView
    public var published: TimeView
    public var byline: [LinkView]
    public var hasByline: Bool
    public var image: ImageView?
}

/// A correction or update note as shown under an article.
public struct CorrectionView: Sendable {
    public var label: String
    public var text: String
    public var time: TimeView
}

/// The article page.
public struct ArticlePageView: Sendable {
    public var frame: FrameView
    public var title: String
    public var summary: String?
    public var byline: [LinkView]
    public var hasByline: Bool
    /// The authors' names in one line, for `<meta name="author">`.
    public var authorNames: String?
    public var published: TimeView
    public var updated: TimeView?
    public var image: ImageView?
    public var bodyHTML: String
    public var corrections: [CorrectionView]
    public var section: LinkView
    public var related: [ArticleCardView]
    public var tags: [HashtagView]
    /// The author-views note, when the article carries it.
    public var disclaimer: String?
    public var tipPrompt: String
}

/// A tag shown as a hashtag: `#ClimateChange` linking to `/tag/climate-change/`.
public struct HashtagView: Sendable {
    public var hashtag: String
    public var name: String
    public var path: String
}

/// Links to the neighbouring pages of a long list.
public struct PaginationView: Sendable {
    public var current: Int
    public var total: Int
    public var previousPath: String?
    public var nextPath: String?
}

/// A section, tag or author page: a heading, an introduction and a page of articles.
public struct ListPageView: Sendable {
    public var frame: FrameView
    /// What kind of list this is, shown above the heading ("Section", "Tag", "Author").
    public var kind: String
    public var heading: String
    /// Sub-heading: a job title for an author.
    public var subheading: String?
    /// An introduction in HTML (an author's biography).
    public var introHTML: String?
    public var articles: [ArticleCardView]
    public var pagination: PaginationView?
    public var isEmpty: Bool
}

/// A section's block on the home page.
public struct SectionBlockView: Sendable {
    public var name: String
    public var path: String
    /// The block heading's element id.
    public var anchor: String
    public var articles: [ArticleCardView]
}

/// The home page.
public struct HomePageView: Sendable {
    public var frame: FrameView
    public var lead: ArticleCardView?
    public var latest: [ArticleCardView]
    public var sections: [SectionBlockView]
}

/// A standing page (About, Privacy) and the tips page.
public struct StaticPageView: Sendable {
    public var frame: FrameView
    public var title: String
    public var summary: String?
    public var bodyHTML: String
}

/// A 404 or 500 page: what happened, and where to go next, without any detail of the failure.
public struct ErrorPageView: Sendable {
    public var frame: FrameView
    public var status: Int
    public var heading: String
    public var message: String
}

/// One search result: the article as a card and the words around the match.
public struct SearchResultView: Sendable {
    public var card: ArticleCardView
    /// Escaped text with the matching words in `<mark>`.
    public var snippetHTML: String
}

/// An option of the section filter on the search page.
public struct SectionOptionView: Sendable {
    public var slug: String
    public var name: String
    public var isSelected: Bool
}

/// The search page: the form (with what was asked) and the results.
public struct SearchPageView: Sendable {
    public var frame: FrameView
    public var query: String
    public var sections: [SectionOptionView]
    public var from: String
    public var until: String
    public var hasQuery: Bool
    public var results: [SearchResultView]
    /// "3 results for “harbour”", or nil before anything was asked.
    public var summary: String?
    public var pagination: PaginationView?
}

/// The privacy settings page: every consent category with its details and the reader's choice.
public struct ConsentPageView: Sendable {
    public var frame: FrameView
    public var necessary: String
    public var categories: [ConsentCategoryView]
    public var consentID: String?
    /// The reader chose already (and sent no privacy signal).
    public var decided: Bool
    public var privacySignal: Bool
    public var renewMonths: Int
    public var policyVersion: Int

    public init(frame: FrameView, necessary: String, categories: [ConsentCategoryView], consentID: String?, decided: Bool, privacySignal: Bool, renewMonths: Int, policyVersion: Int) {
        self.frame = frame
        self.necessary = necessary
        self.categories = categories
        self.consentID = consentID
        self.decided = decided
        self.privacySignal = privacySignal
        self.renewMonths = renewMonths
        self.policyVersion = policyVersion
    }
}

public struct ConsentCategoryView: Sendable {
    public var id: String
    public var name: String
    public var description: String
    public var storage: String
    public var services: [ConsentServiceView]
    public var hasServices: Bool
    public var granted: Bool

    public init(id: String, name: String, description: String, storage: String, services: [ConsentServiceView], hasServices: Bool, granted: Bool) {
        self.id = id
        self.name = name
        self.description = description
        self.storage = storage
        self.services = services
        self.hasServices = hasServices
        self.granted = granted
    }
}

public struct ConsentServiceView: Sendable {
    public var name: String
    public var purpose: String
    public var privacyURL: String

    public init(name: String, purpose: String, privacyURL: String) {
        self.name = name
        self.purpose = purpose
        self.privacyURL = privacyURL
    }
}

/// The tip line's form, with what it protects and what it cannot.
public struct TipsPageView: Sendable {
    public var frame: FrameView
    public var isOpen: Bool
    public var token: String
    public var error: String?
    public var text: String
    public var contact: String
    public var maxFiles: Int
    public var maxMB: Int
    public var retentionDays: Int
    public var onionAddress: String?

    public init(frame: FrameView, isOpen: Bool, token: String, error: String?, text: String, contact: String, maxFiles: Int, maxMB: Int, retentionDays: Int, onionAddress: String?) {
        self.frame = frame
        self.isOpen = isOpen
        self.token = token
        self.error = error
        self.text = text
        self.contact = contact
        self.maxFiles = maxFiles
        self.maxMB = maxMB
        self.retentionDays = retentionDays
        self.onionAddress = onionAddress
    }
}

/// The receipt, shown once after a tip is sent.
public struct TipReceiptView: Sendable {
    public var frame: FrameView
    public var receipt: String
    public var wordCount: Int

    public init(frame: FrameView, receipt: String, wordCount: Int) {
        self.frame = frame
        self.receipt = receipt
        self.wordCount = wordCount
    }
}

/// A source's side of the conversation, opened with the receipt.
public struct TipReturnView: Sendable {
    public struct Reply: Sendable {
        public var day: String
        public var text: String

        public init(day: String, text: String) {
            self.day = day
            self.text = text
        }
    }

    public var frame: FrameView
    /// The receipt opened a conversation (shown with a form to write more).
    public var found: Bool
    public var receipt: String
    public var replies: [Reply]
    public var hasReplies: Bool
    public var sent: Bool
    public var error: String?
    public var token: String
    public var maxFiles: Int
    public var maxMB: Int

    public init(frame: FrameView, found: Bool, receipt: String, replies: [Reply], sent: Bool, error: String?, token: String, maxFiles: Int, maxMB: Int) {
        self.frame = frame
        self.found = found
        self.receipt = receipt
        self.replies = replies
        self.hasReplies = !replies.isEmpty
        self.sent = sent
        self.error = error
        self.token = token
        self.maxFiles = maxFiles
        self.maxMB = maxMB
    }
}
