import Foundation
import MastheadCore
import Testing

@Suite struct ConsentTests {
    let policy = ConsentPolicy()

    @Test func aFirstVisitHasNotChosen() {
        let state = ConsentState(cookie: nil, globalPrivacyControl: nil, doNotTrack: nil, policy: policy)
        #expect(!state.decided && state.granted.isEmpty && state.variantKey == "ask")
    }

    @Test func theCookieRemembersTheChoiceUntilItExpiresOrThePolicyChanges() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let value = ConsentState.cookieValue(version: 1, givenAt: now, granted: ["media", "audience"], id: "abcdefgh12345678")
        #expect(value == "v1.1800000000.audience-media.abcdefgh12345678")
        let state = ConsentState(cookie: value, globalPrivacyControl: nil, doNotTrack: nil, policy: policy, now: now.addingTimeInterval(86_400))
        #expect(state.decided && state.granted == ["audience", "media"] && state.consentID == "abcdefgh12345678")
        #expect(state.variantKey == "g:audience,media")
        let expired = ConsentState(cookie: value, globalPrivacyControl: nil, doNotTrack: nil, policy: policy, now: now.addingTimeInterval(183 * 86_400))
        #expect(!expired.decided)
        let newPolicy = ConsentPolicy(version: 2)
        #expect(!ConsentState(cookie: value, globalPrivacyControl: nil, doNotTrack: nil, policy: newPolicy, now: now).decided)
        let rejected = ConsentState(cookie: "v1.1800000000.none.abcdefgh12345678", globalPrivacyControl: nil, doNotTrack: nil, policy: policy, now: now)
        #expect(rejected.decided && rejected.granted.isEmpty && rejected.variantKey == "g:")
        for broken in ["", "v1", "v1.x.none.abcdefgh", "v1.1800000000.none.a<b>", "1.1800000000.none.abcdefgh12345678"] {
            #expect(!ConsentState(cookie: broken, globalPrivacyControl: nil, doNotTrack: nil, policy: policy, now: now).decided)
        }
    }

    @Test func globalPrivacyControlAndDoNotTrackCountAsRejectAll() {
        let accepted = ConsentState.cookieValue(version: 1, givenAt: .now, granted: ["media", "audience", "marketing"], id: "abcdefgh12345678")
        for (gpc, dnt) in [("1", nil), (nil, "1")] as [(String?, String?)] {
            let state = ConsentState(cookie: accepted, globalPrivacyControl: gpc, doNotTrack: dnt, policy: policy)
            #expect(state.decided && state.privacySignal && state.granted.isEmpty && state.variantKey == "signal")
        }
    }

    @Test func unknownCategoriesInACookieAreIgnored() {
        let value = ConsentState.cookieValue(version: 1, givenAt: .now, granted: ["media", "tracking"], id: "abcdefgh12345678")
        #expect(ConsentState(cookie: value, globalPrivacyControl: nil, doNotTrack: nil, policy: policy).granted == ["media"])
    }

    @Test func sitesDescribeTheirOwnCategoriesInYAML() throws {
        let yaml = """
            version: 3
            renew_days: 90
            categories:
              - id: audience
                name: Audience measurement
                description: Counts visits.
                storage: One cookie for a year.
                services:
                  - name: Example Analytics
                    purpose: Statistics
                    privacy_url: https://analytics.example/privacy
                    origins: [https://analytics.example]
                    script: https://analytics.example/script.js
            """
        let policy = try ConsentPolicy.parse(yaml, file: "consent.yaml")
        #expect(policy.version == 3 && policy.renewAfter == 90 * 86_400)
        #expect(policy.categories.map(\.id) == ["audience"])
        #expect(policy.categories[0].services[0].script == "https://analytics.example/script.js")
        do {
            _ = try ConsentPolicy.parse("categories:\n  - id: Bad Id\n    name: x\n    description: y\n    storage: z\n", file: "consent.yaml")
            Issue.record("a bad id was accepted")
        } catch let error as MastheadError {
            #expect(error.location?.file == "consent.yaml" && error.location?.field == "id")
        }
        #expect(throws: MastheadError.self) { try ConsentPolicy.parse("categories:\n  - id: a\n", file: "consent.yaml") }
    }

    @Test func videoLinksBecomeInertPlaceholdersUntilMediaIsAllowed() {
        let html = MarkdownRenderer(trustsHTML: false).html(from: "Watch:\n\nhttps://www.youtube.com/watch?v=aqz-KE-bpKQ\n\n<https://vimeo.com/76979871>\n\nhttps://example.org/watch?v=1\n")
        #expect(html.contains(#"data-embed="youtube:aqz-KE-bpKQ""#))
        #expect(html.contains(#"data-embed="vimeo:76979871""#))
        #expect(!html.contains("<iframe"))
        #expect(!html.contains("youtube-nocookie"))
        #expect(html.contains(#"<a href="https://example.org/watch?v=1">"#))
        let active = Embeds.activate(html)
        #expect(active.contains(#"<iframe src="https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ""#))
        #expect(active.contains(#"<iframe src="https://player.vimeo.com/video/76979871""#))
        #expect(!active.contains("embed__placeholder"))
        #expect(Embeds.video(at: "https://www.youtube.com/watch?v=x\"onload=alert(1)") == nil)
        #expect(Embeds.video(at: "https://youtu.be/aqz-KE-bpKQ")?.id == "aqz-KE-bpKQ")
    }
}
