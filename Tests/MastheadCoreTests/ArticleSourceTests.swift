import Foundation
import MastheadCore
import Testing

@Suite struct ArticleSourceTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    func parse(_ text: String) throws -> ArticleSource {
        try ArticleSource.parse(text, file: "story.md", timeZone: berlin)
    }

    @Test func readsEveryFrontMatterField() throws {
        let source = try parse("""
            ---
            title: "Harbour strike ends: workers return"
            slug: harbour-strike-ends
            section: World
            tags: ["#Labour", Shipping, "shipping", Trade]
            authors: [Amara Okafor, Hannah Lindqvist]
            date: 2026-11-26 17:05
            updated: 2026-11-27T09:00:00Z
            summary: Dockers accepted a pay deal.
            image: cranes.jpg
            image_alt: Cranes at dusk
            image_caption: Idle cranes.
            image_credit: Photo by A. Photographer
            disclaimer: true
            status: draft
            ---
            The body.
            """)
        #expect(source.title == "Harbour strike ends: workers return")
        #expect(source.slug == "harbour-strike-ends")
        #expect(source.sectionName == "World")
        #expect(source.tagNames == ["Labour", "Shipping", "Trade"])
        #expect(source.authorNames == ["Amara Okafor", "Hannah Lindqvist"])
        // A time without a zone is read in the site's zone: 17:05 in Berlin is 16:05 UTC.
        #expect(source.publishedAt == ISO8601DateFormatter().date(from: "2026-11-26T16:05:00Z"))
        #expect(source.updatedAt == ISO8601DateFormatter().date(from: "2026-11-27T09:00:00Z"))
        #expect(source.image == "cranes.jpg")
        #expect(source.imageLine == 10)
        #expect(source.disclaimer)
        #expect(source.status == .draft)
        #expect(source.bodyMarkdown == "The body.")
    }

    @Test func derivesSlugFromTitleAndDefaultsToPublished() throws {
        let source = try parse("---\ntitle: Rain Returns to the Valley\nsection: Science\n---\nText\n")
        #expect(source.slug == "rain-returns-to-the-valley")
        #expect(source.status == .published)
        #expect(!source.disclaimer)
        #expect(source.publishedAt == nil)
    }

    @Test func tagsMayBeOneStringOfHashtagsOrCommas() throws {
        #expect(try parse("---\ntitle: A\ntags: \"#China #Ukraine #Trade talks\"\n---\nText\n").tagNames == ["China", "Ukraine", "Trade talks"])
        #expect(try parse("---\ntitle: A\ntags: China, Ukraine\n---\nText\n").tagNames == ["China", "Ukraine"])
        #expect(try parse("---\ntitle: A\nauthors: Jane Doe\n---\nText\n").authorNames == ["Jane Doe"])
    }

    @Test(arguments: [
        "2026-11-28T14:30:00Z", "2026-11-28T15:30:00+01:00", "2026-11-28T14:30:00.000Z", "2026-11-28 15:30:00 +0100",
        "2026-11-28T15:30:00+0100", "Sat, 28 Nov 2026 14:30:00 +0000", "2026-11-28 15:30",
    ])
    func readsCommonDateForms(text: String) throws {
        let source = try parse("---\ntitle: A\ndate: \(text)\n---\nText\n")
        #expect(source.publishedAt == ISO8601DateFormatter().date(from: "2026-11-28T14:30:00Z"), "\(text)")
    }

    @Test func unknownFieldIsNamedWithItsLine() {
        #expect {
            try parse("---\ntitle: A\nsection: World\nheadline: B\n---\nText\n")
        } throws: { error in
            let error = error as! MastheadError
            return error.location == .init(file: "story.md", line: 4, field: "headline") && error.message.contains("unknown field")
        }
    }

    @Test func missingTitleIsAnError() {
        #expect {
            try parse("---\nsection: World\n---\nText\n")
        } throws: { error in
            (error as! MastheadError).location?.field == "title"
        }
    }

    @Test func badDateNamesFieldAndLine() {
        #expect {
            try parse("---\ntitle: A\ndate: next Tuesday\n---\nText\n")
        } throws: { error in
            let error = error as! MastheadError
            return error.location == .init(file: "story.md", line: 3, field: "date") && error.description.contains("story.md:3: field 'date'")
        }
    }

    @Test func invalidYAMLNamesTheLine() {
        #expect {
            try parse("---\ntitle: A\ntags: [one, two\nsection: World\n---\nText\n")
        } throws: { error in
            let error = error as! MastheadError
            return error.location?.file == "story.md" && error.location?.line != nil && error.message.contains("YAML")
        }
    }

    @Test func fileWithoutFrontMatterIsAnError() {
        #expect(throws: MastheadError.self) { try parse("Just text\n") }
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\nno closing line\n") }
    }

    @Test func badValuesAreErrors() {
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\ndisclaimer: maybe\n---\nText\n") }
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\nstatus: archived\n---\nText\n") }
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\nslug: Not A Slug\n---\nText\n") }
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\nsection: Tag\n---\nText\n") }
        #expect(throws: MastheadError.self) { try parse("---\ntitle: A\n---\n\n") }
    }
}
