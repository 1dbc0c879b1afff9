import MastheadStorage
import Testing

/// The key an old site's address is looked up by, so links to the WordPress site keep working.
@Suite struct LegacyAddressTests {
    @Test func datedPermalinksMatchWhateverTheirCaseOrTrailingSlash() {
        #expect(Store.legacyKey(path: "/2013/01/05/Harbour-Plan", query: nil) == "/2013/01/05/harbour-plan/")
        #expect(Store.legacyKey(path: "/2013/01/05/harbour-plan/", query: nil) == "/2013/01/05/harbour-plan/")
        #expect(Store.legacyKey(path: "/2013/01/05/harbour-plan/", query: "utm_source=newsletter") == "/2013/01/05/harbour-plan/")
    }

    @Test func percentEncodedGreekSlugsMatchDecoded() {
        let upper = "/2013/01/05/%CE%9A%CE%B1%CE%BB%CE%B7%CE%BC%CE%AD%CF%81%CE%B1-%CE%91%CE%B8%CE%AE%CE%BD%CE%B1"
        #expect(Store.legacyKey(path: upper, query: nil) == "/2013/01/05/καλημέρα-αθήνα/")
        // WordPress writes its own links with lowercase escapes: the same key.
        #expect(Store.legacyKey(path: upper.lowercased(), query: nil) == "/2013/01/05/καλημέρα-αθήνα/")
    }

    @Test func postAndPageNumbersInTheQueryAreTheKey() {
        #expect(Store.legacyKey(path: "/", query: "p=12") == "/?p=12")
        #expect(Store.legacyKey(path: "/", query: "page_id=7&foo=1") == "/?page_id=7")
        #expect(Store.legacyKey(path: "/", query: "utm_source=feed&p=12") == "/?p=12")
        #expect(Store.legacyKey(path: "/index.php", query: "p=12") == "/?p=12")
    }

    @Test func aPostNumberThatIsNotANumberIsIgnored() {
        #expect(Store.legacyKey(path: "/", query: "p=abc") == "/")
        #expect(Store.legacyKey(path: "/", query: "p=") == "/")
    }
}
