import Testing

@testable import MastheadApp

/// What decides whether a request is logged, and how its address and values appear in the log.
@Suite struct LogPrivacyTests {
    @Test func tipLineAddressesAreRecognisedHoweverTheyAreSpelt() {
        for path in ["/tips", "/tips/", "/tips/return", "/TIPS/", "/%74ips/", "//tips/", "/Tips%2F", "\\tips", "/tips?x=1"] {
            #expect(TipLinePaths.contains(path), "\(path)")
        }
        for path in ["/", "/world/tips-for-renters/", "/tag/tips/", "/assets/site.css", "/ti/ps"] {
            #expect(!TipLinePaths.contains(path), "\(path)")
        }
        #expect(TipLinePaths.normalized("/world/a-story/") == "/world/a-story/")
        #expect(TipLinePaths.normalized("/World//A%20Story/") == "/world/a story/")
        #expect(LoggedPath.redacted("/preview/SECRET-token/") == "/preview/…")
        #expect(LoggedPath.redacted("/admin/set-password/abc") == "/admin/set-password/…")
    }

    @Test func addressesAreRedactedFromLogLinesButOtherTextIsNot() {
        #expect(RedactingLogHandler.redact("connection from 192.168.1.20 reset") == "connection from [address] reset")
        #expect(RedactingLogHandler.redact("peer [2001:db8::1]:443 closed") == "peer [[address]]:443 closed")
        #expect(RedactingLogHandler.redact("::1") == "[address]")
        #expect(RedactingLogHandler.redact("/world/a.story/") == "/world/a.story/")
        #expect(RedactingLogHandler.redact("v1.2.3") == "v1.2.3")
        #expect(RedactingLogHandler.redact("at 10:42") == "at 10:42")
    }
}
