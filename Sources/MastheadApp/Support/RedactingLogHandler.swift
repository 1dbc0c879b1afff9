import Foundation
import Logging

/// Writes log lines with every IP address replaced by `[address]`: in messages and in metadata,
/// ours and the libraries' (a connection error can name its peer). No log of this site holds a
/// reader's or a source's address.
public struct RedactingLogHandler: LogHandler {
    private var handler: any LogHandler

    public init(_ handler: any LogHandler) {
        self.handler = handler
    }

    public var logLevel: Logger.Level {
        get { handler.logLevel }
        set { handler.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { handler.metadata }
        set { handler.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { handler[metadataKey: key] }
        set { handler[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: Self.redact(event.message.description))
        event.metadata = event.metadata?.mapValues { .string(Self.redact($0.description)) }
        handler.log(event: event)
    }

    private static let ipv4 = try! NSRegularExpression(pattern: #"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"#)
    /// IPv6: eight groups, or a `::` abbreviation next to hex groups (times like 10:42:07 do not match).
    private static let ipv6 = try! NSRegularExpression(
        pattern: #"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4})(?![\w:])"#)

    public static func redact(_ text: String) -> String {
        // An IPv4 address has three dots, an IPv6 one at least two colons: most text has neither.
        var dots = 0
        var colons = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") { dots += 1 } else if byte == UInt8(ascii: ":") { colons += 1 }
        }
        guard dots >= 3 || colons >= 2 else { return text }
        var result = text
        for expression in [ipv4, ipv6] {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result), withTemplate: "[address]")
        }
        return result
    }
}
