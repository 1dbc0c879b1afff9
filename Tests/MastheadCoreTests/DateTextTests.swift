import Foundation
import MastheadCore
import Testing

@Suite struct DateTextTests {
    let moments: [Date] = [0, 951_782_400, 1_764_174_300, 1_798_761_599, 4_102_444_800].map { Date(timeIntervalSince1970: $0) }

    @Test func iso8601MatchesFoundationsFormatterInEveryZone() {
        for zone in ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"] {
            let timeZone = TimeZone(identifier: zone)!
            let reference = ISO8601DateFormatter()
            reference.timeZone = timeZone
            reference.formatOptions = [.withInternetDateTime]
            for date in moments {
                #expect(DateText.iso8601(date, timeZone: timeZone) == reference.string(from: date), "\(zone) \(date)")
            }
        }
    }

    @Test func httpDatesRoundTripAndMatchTheRFC() {
        #expect(DateText.http(Date(timeIntervalSince1970: 1_795_919_766)) == "Sun, 29 Nov 2026 02:36:06 GMT")
        for date in moments { #expect(DateText.parseHTTP(DateText.http(date)) == date) }
        #expect(DateText.parseHTTP("Sunday, 29-Nov-26 02:36:06 GMT") == nil)
        #expect(DateText.parseHTTP("garbage") == nil)
    }

    @Test func wordsAreInTheSitesLanguageAndZone() {
        let date = Date(timeIntervalSince1970: 1_764_174_300)  // 2025-11-26 16:25 UTC
        #expect(DateText.words(date, language: "en", timeZone: TimeZone(identifier: "Europe/Berlin")!).contains("November 26, 2025"))
        #expect(DateText.words(date, language: "de", timeZone: TimeZone(identifier: "Europe/Berlin")!).contains("17:25"))
    }
}
