import Foundation

/// A value as a template reads it: text, a number, a flag, a list, or an object whose fields
/// `{{name}}` looks up.
public indirect enum TemplateValue: Sendable {
    case text(String)
    case number(Int)
    case flag(Bool)
    case list([TemplateValue])
    case object([String: TemplateValue])

    /// An object from fields whose value may be missing: missing ones are left out, as
    /// templates treat a field that is not there and a nil one alike.
    public static func fields(_ pairs: KeyValuePairs<String, TemplateValue?>) -> TemplateValue {
        var object: [String: TemplateValue] = [:]
        object.reserveCapacity(pairs.count)
        for (name, value) in pairs {
            if let value { object[name] = value }
        }
        return .object(object)
    }

    /// The field `name` of an object; nil for other values.
    func child(_ name: String) -> TemplateValue? {
        if case .object(let fields) = self { return fields[name] }
        return nil
    }

    /// The value as swift-mustache reads it (dictionaries, arrays and plain values), for themes
    /// the compiled renderer leaves to it.
    var mustacheValue: Any {
        switch self {
        case .text(let text): return text
        case .number(let number): return number
        case .flag(let flag): return flag
        case .list(let items): return items.map(\.mustacheValue)
        case .object(let fields): return fields.mapValues(\.mustacheValue)
        }
    }
}

/// A view that knows its template value. Views without it are read by reflection.
public protocol TemplateRepresentable {
    var templateValue: TemplateValue { get }
}

extension String: TemplateRepresentable {
    public var templateValue: TemplateValue { .text(self) }
}

extension Int: TemplateRepresentable {
    public var templateValue: TemplateValue { .number(self) }
}

extension Bool: TemplateRepresentable {
    public var templateValue: TemplateValue { .flag(self) }
}

extension Optional where Wrapped: TemplateRepresentable {
    public var templateValue: TemplateValue? { map(\.templateValue) }
}

extension Array where Element: TemplateRepresentable {
    public var templateValue: TemplateValue { .list(map(\.templateValue)) }
}

extension TemplateValue {
    /// The template value of any view: its own when it has one, else its stored properties by
    /// reflection (structs as objects, optionals unwrapped and nil left out, arrays item by item).
    /// With `reflectingAll`, views are read by reflection even when they have their own value
    /// (which the template check compares with theirs).
    public init?(reflecting value: Any, reflectingAll: Bool = false) {
        switch value {
        case let value as String: self = .text(value)
        case let value as Int: self = .number(value)
        case let value as Bool: self = .flag(value)
        case let value as Int64: self = .number(Int(value))
        case let value as TemplateValue: self = value
        case let value as TemplateRepresentable where !reflectingAll: self = value.templateValue
        default:
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                guard let wrapped = mirror.children.first, let inner = TemplateValue(reflecting: wrapped.value, reflectingAll: reflectingAll) else { return nil }
                self = inner
            case .struct, .class:
                var fields: [String: TemplateValue] = [:]
                for child in mirror.children {
                    if let label = child.label, let field = TemplateValue(reflecting: child.value, reflectingAll: reflectingAll) { fields[label] = field }
                }
                self = .object(fields)
            case .collection, .set:
                self = .list(mirror.children.compactMap { TemplateValue(reflecting: $0.value, reflectingAll: reflectingAll) })
            case .dictionary:
                var fields: [String: TemplateValue] = [:]
                for child in mirror.children {
                    let pair = Array(Mirror(reflecting: child.value).children)
                    if pair.count == 2, let key = pair[0].value as? String, let field = TemplateValue(reflecting: pair[1].value, reflectingAll: reflectingAll) {
                        fields[key] = field
                    }
                }
                self = .object(fields)
            default:
                self = .text(String(describing: value))
            }
        }
    }
}
