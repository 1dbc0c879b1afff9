import Foundation
import Synchronization

/// Dates as pages, feeds and headers write them, made without building a formatter per call
/// (creating one costs more than rendering the rest of an article page).
public enum DateText {
    /// RFC 3339 / ISO 8601 in `timeZone`, to the second: `2026-11-26T17:05:00+01:00`, `…Z` in UTC.
    public static func iso8601(_ date: Date, timeZone: TimeZone = .gmt) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let fields = utcFields(date.addingTimeInterval(TimeInterval(offset)))
        var text = "\(four(fields.year))-\(two(fields.month))-\(two(fields.day))T\(two(fields.hour)):\(two(fields.minute)):\(two(fields.second))"
        if offset == 0 {
            text += "Z"
        } else {
            let minutes = abs(offset) / 60
            text += (offset < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
        }
        return text
    }

    /// HTTP's date (RFC 9110 IMF-fixdate), also RSS's: `Sun, 29 Nov 2026 02:36:06 GMT`.
    public static func http(_ date: Date) -> String {
        let fields = utcFields(date)
        return "\(weekdays[fields.weekday]), \(two(fields.day)) \(months[fields.month - 1]) \(four(fields.year)) "
            + "\(two(fields.hour)):\(two(fields.minute)):\(two(fields.second)) GMT"
    }

    /// An HTTP date as clients send it back (`If-Modified-Since`); nil when it is not one.
    public static func parseHTTP(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var time = tm()
        time.tm_year = Int32(year - 1900)
        time.tm_mon = Int32(month)
        time.tm_mday = Int32(day)
        time.tm_hour = Int32(clock[0])
        time.tm_min = Int32(clock[1])
        time.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
    }

    /// The date and time in words in `language` and `timeZone` (`26 November 2026 at 17:05`),
    /// from a formatter made once per language and zone.
    public static func words(_ date: Date, language: String, timeZone: TimeZone) -> String {
        let key = language + "|" + timeZone.identifier
        return formatters.withLock { formatters in
            let formatter = formatters[key] ?? {
                let made = DateFormatter()
                made.locale = Locale(identifier: language)
                made.timeZone = timeZone
                made.dateStyle = .long
                made.timeStyle = .short
                formatters[key] = made
                return made
            }()
            return formatter.string(from: date)
        }
    }

    /// The month (UTC, proleptic Gregorian as ISO 8601 has it) that contains `date`: its name
    /// (`2026-11`), first moment and the next month's.
    public static func utcMonth(containing date: Date) -> (name: String, start: Date, end: Date) {
        let fields = utcFields(date)
        func first(_ year: Int, _ month: Int) -> Date {
            var time = tm()
            time.tm_year = Int32(year - 1900)
            time.tm_mon = Int32(month - 1)
            time.tm_mday = 1
            return Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
        }
        let next = fields.month == 12 ? (fields.year + 1, 1) : (fields.year, fields.month + 1)
        return ("\(four(fields.year))-\(two(fields.month))", first(fields.year, fields.month), first(next.0, next.1))
    }

    /// Formatters are not safe to share between threads: each is used under this lock.
    private static let formatters = Mutex<[String: DateFormatter]>([:])

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func utcFields(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        return (Int(fields.tm_year) + 1900, Int(fields.tm_mon) + 1, Int(fields.tm_mday), Int(fields.tm_hour), Int(fields.tm_min),
                Int(fields.tm_sec), Int(fields.tm_wday))
    }

    private static func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
    private static func four(_ number: Int) -> String { number < 1000 ? String(repeating: "0", count: 4 - String(number).count) + "\(number)" : "\(number)" }
}
