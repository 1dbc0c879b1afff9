/// A theme's Mustache templates compiled for rendering ``TemplateValue``s: each tag is parsed once,
/// names are split once, and output is written as bytes into one buffer, escaped byte by byte.
///
/// The same templates also load into swift-mustache, which checks them (with its line numbers in
/// errors) and renders any theme that uses what this does not compile: set delimiters (`{{=…=}}`),
/// content-type pragmas (`{{%…}}`), dynamic partials (`{{>*…}}`) and transforms other than those below.
/// Output is the same as swift-mustache's for the rest (its whitespace rules for standalone tags,
/// indented partials and template inheritance), which the tests compare on every template, except
/// that escaping is done on bytes, so a quote followed by a combining mark is still escaped.
struct CompiledTemplates: Sendable {
    /// What the compiler does not handle: the theme is rendered by swift-mustache instead.
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    private let templates: [String: [Node]]

    /// Compiles `sources` (template name → text); throws ``Unsupported`` when one uses what the compiler leaves out.
    init(sources: [String: String]) throws {
        var templates: [String: [Node]] = [:]
        for (name, text) in sources {
            do {
                var parser = TemplateParser(bytes: Array(text.utf8))
                templates[name] = try parser.parse(state: .init())
            } catch let error as Unsupported {
                throw Unsupported(description: "\(name).mustache: \(error.description)")
            }
        }
        self.templates = templates
    }

    /// The template `name` rendered with `value`; nil when there is no such template.
    func render(_ value: TemplateValue, template name: String) -> String? {
        guard let nodes = templates[name] else { return nil }
        var renderer = TemplateRenderer(templates: templates)
        renderer.output.reserveCapacity(32 * 1024)
        renderer.render(nodes, context: Context(stack: [value]))
        return String(decoding: renderer.output, as: UTF8.self)
    }
}

// MARK: - Parsed form

/// A name in a tag: `.` (the current value), `a.b.c`, `.a` (the current value's field only), or a
/// transform of the item's place in a list (`first()`, `index()`…).
struct TemplateName: Equatable, Sendable {
    enum Root: Equatable, Sendable { case current, stack, top, sequence }
    var root: Root
    var parts: [String]
    /// Applied last to first, as written outermost first: `empty(related)` is `["empty"]`.
    var transforms: [String]

    static let listTransforms: Set<String> = ["first", "last", "reversed", "count", "empty"]
    static let textTransforms: Set<String> = ["empty", "capitalized", "lowercased", "uppercased", "reversed"]
    static let numberTransforms: Set<String> = ["equalzero", "plusone", "minusone", "even", "odd"]
    static let sequenceTransforms: Set<String> = ["first", "last", "index", "even", "odd"]
}

indirect enum Node: Sendable {
    case text([UInt8])
    case variable(TemplateName, escaped: Bool)
    case section(TemplateName, [Node])
    case inverted(TemplateName, [Node])
    /// `{{>name}}`, or `{{<name}}…{{/name}}` with the blocks it overrides.
    case partial(String, indentation: [UInt8]?, overrides: [String: [Node]]?)
    /// `{{$name}}default{{/name}}` where a template inherits.
    case block(String, defaults: [Node], indentation: [UInt8])
    /// `{{$name}}…{{/name}}` inside `{{<parent}}`: an override.
    case blockDefinition(String, [Node])
}

// MARK: - Parser

/// The line-by-line reading of Mustache that swift-mustache does (which follows the Mustache
/// specification's rules for standalone tags), on bytes.
struct TemplateParser {
    let bytes: [UInt8]
    var position = 0

    struct State {
        var sectionName: String?
        var sectionTransforms: [String] = []
        var newLine = true
        var isPartialDefinition = false
        var isPartialDefinitionTopLevel = false
        var partialDefinitionIndent: [UInt8]?

        func section(_ name: String, transforms: [String] = [], newLine: Bool) -> State {
            var state = self
            state.sectionName = name
            state.sectionTransforms = transforms
            state.isPartialDefinitionTopLevel = false
            if !newLine { state.newLine = false }
            return state
        }

        func inheritance(_ name: String) -> State {
            var state = self
            state.sectionName = name
            state.sectionTransforms = []
            state.newLine = true
            state.isPartialDefinition = true
            state.isPartialDefinitionTopLevel = true
            return state
        }
    }

    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
    private static let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")

    private var atEnd: Bool { position >= bytes.count }
    private var current: UInt8 { atEnd ? 0 : bytes[position] }

    /// The length of the line break at `index` (`\n` or `\r\n`), 0 when there is none.
    private func lineBreak(at index: Int) -> Int {
        guard index < bytes.count else { return 0 }
        if bytes[index] == Self.newline { return 1 }
        if bytes[index] == Self.carriageReturn, index + 1 < bytes.count, bytes[index + 1] == Self.newline { return 2 }
        return 0
    }

    mutating func parse(state initial: State) throws -> [Node] {
        var nodes: [Node] = []
        var state = initial
        var whiteSpaceBefore: ArraySlice<UInt8> = []
        while !atEnd {
            if state.newLine {
                let start = position
                while !atEnd, current == Self.space || current == Self.tab { position += 1 }
                let whiteSpace = bytes[start..<position]
                if state.isPartialDefinition, !state.isPartialDefinitionTopLevel {
                    if let indent = state.partialDefinitionIndent {
                        whiteSpaceBefore = whiteSpace.dropFirst(indent.count)
                    } else {
                        state.partialDefinitionIndent = Array(whiteSpace)
                    }
                } else {
                    whiteSpaceBefore = whiteSpace
                }
            }
            let text = readUntilTagOrLineBreak()
            let breakLength = lineBreak(at: position)
            if breakLength > 0 {
                nodes.append(.text(Array(whiteSpaceBefore) + text + bytes[position..<position + breakLength]))
                state.newLine = true
                position += breakLength
                continue
            }
            if !text.isEmpty {
                nodes.append(.text(Array(whiteSpaceBefore) + text))
                whiteSpaceBefore = []
                state.newLine = false
            }
            if atEnd { break }
            var setNewLine = false
            func flushWhiteSpace() {
                if !whiteSpaceBefore.isEmpty {
                    nodes.append(.text(Array(whiteSpaceBefore)))
                    whiteSpaceBefore = []
                }
            }
            switch current {
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                let inverted = current == UInt8(ascii: "^")
                position += 1
                let (name, transforms) = try parseName()
                if isStandalone(state) { setNewLine = true } else { flushWhiteSpace() }
                let body = try parse(state: state.section(name, transforms: transforms, newLine: setNewLine))
                let parsed = try Self.templateName(name, transforms: transforms)
                nodes.append(inverted ? .inverted(parsed, body) : .section(parsed, body))
            case UInt8(ascii: "/"):
                position += 1
                let (name, transforms) = try parseName()
                guard name == state.sectionName, transforms == state.sectionTransforms else {
                    throw CompiledTemplates.Unsupported(description: "section {{/\(name)}} closes another")
                }
                if isStandalone(state) {} else { flushWhiteSpace() }
                return nodes
            case UInt8(ascii: "!"):
                position += 1
                try skipComment()
                setNewLine = isStandalone(state)
            case Self.open, UInt8(ascii: "&"):
                let braced = current == Self.open
                flushWhiteSpace()
                position += 1
                let (name, transforms) = try parseName()
                if braced {
                    guard current == Self.close else { throw CompiledTemplates.Unsupported(description: "unfinished {{{") }
                    position += 1
                }
                nodes.append(.variable(try Self.templateName(name, transforms: transforms), escaped: false))
            case UInt8(ascii: ">"):
                position += 1
                skipWhiteSpace()
                guard current != UInt8(ascii: "*") else { throw CompiledTemplates.Unsupported(description: "dynamic partials are not compiled") }
                let name = try parsePartialName()
                if !whiteSpaceBefore.isEmpty { nodes.append(.text(Array(whiteSpaceBefore))) }
                if isStandalone(state) {
                    setNewLine = true
                    nodes.append(.partial(name, indentation: Array(whiteSpaceBefore), overrides: nil))
                } else {
                    nodes.append(.partial(name, indentation: nil, overrides: nil))
                }
                whiteSpaceBefore = []
            case UInt8(ascii: "<"):
                position += 1
                skipWhiteSpace()
                let name = try parsePartialName()
                guard name.first != "*" else { throw CompiledTemplates.Unsupported(description: "dynamic partials are not compiled") }
                if !whiteSpaceBefore.isEmpty { nodes.append(.text(Array(whiteSpaceBefore))) }
                if isStandalone(state) { setNewLine = true }
                let body = try parse(state: state.inheritance(name))
                var overrides: [String: [Node]] = [:]
                for node in body {
                    switch node {
                    case .blockDefinition(let block, let nodes): overrides[block] = nodes
                    case .text: break
                    default: throw CompiledTemplates.Unsupported(description: "only blocks may be inside {{<\(name)}}")
                    }
                }
                nodes.append(.partial(name, indentation: Array(whiteSpaceBefore), overrides: overrides))
                whiteSpaceBefore = []
            case UInt8(ascii: "$"):
                position += 1
                let (name, transforms) = try parseName()
                guard transforms.isEmpty else { throw CompiledTemplates.Unsupported(description: "transform on a block") }
                if state.isPartialDefinitionTopLevel {
                    if isStandalone(state) { setNewLine = true }
                    let body = try parse(state: state.section(name, newLine: setNewLine))
                    nodes.append(.blockDefinition(name, body))
                } else {
                    if !whiteSpaceBefore.isEmpty { nodes.append(.text(Array(whiteSpaceBefore))) }
                    if isStandalone(state) { setNewLine = true }
                    let body = try parse(state: state.section(name, newLine: setNewLine))
                    nodes.append(.block(name, defaults: body, indentation: Array(whiteSpaceBefore)))
                    whiteSpaceBefore = []
                }
            case UInt8(ascii: "="):
                throw CompiledTemplates.Unsupported(description: "set delimiters are not compiled")
            case UInt8(ascii: "%"):
                throw CompiledTemplates.Unsupported(description: "pragmas are not compiled")
            default:
                flushWhiteSpace()
                let (name, transforms) = try parseName()
                nodes.append(.variable(try Self.templateName(name, transforms: transforms), escaped: true))
            }
            state.newLine = setNewLine
        }
        guard state.sectionName == nil else { throw CompiledTemplates.Unsupported(description: "section \(state.sectionName!) is not closed") }
        return nodes
    }

    /// Text up to `{{` (which it consumes) or a line break (which it leaves).
    private mutating func readUntilTagOrLineBreak() -> [UInt8] {
        let start = position
        while !atEnd {
            if lineBreak(at: position) > 0 { return Array(bytes[start..<position]) }
            if bytes[position] == Self.open, position + 1 < bytes.count, bytes[position + 1] == Self.open {
                let text = Array(bytes[start..<position])
                position += 2
                return text
            }
            position += 1
        }
        return Array(bytes[start..<position])
    }

    private static let nameBytes = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*".utf8)
    private static let partialNameBytes = nameBytes.union("()/".utf8)

    private static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == newline || byte == carriageReturn || byte == 0x0B || byte == 0x0C
    }

    private mutating func skipWhiteSpace() {
        while !atEnd, Self.isWhiteSpace(current) { position += 1 }
    }

    private mutating func expectClose() throws {
        guard position + 1 < bytes.count, bytes[position] == Self.close, bytes[position + 1] == Self.close else {
            throw CompiledTemplates.Unsupported(description: "unfinished tag")
        }
        position += 2
    }

    /// A tag's name and its transforms: `empty(related)` is `("related", ["empty"])`.
    private mutating func parseName() throws -> (String, [String]) {
        skipWhiteSpace()
        let start = position
        while !atEnd, Self.nameBytes.contains(current) || current == UInt8(ascii: "(") || current == UInt8(ascii: ")") { position += 1 }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        skipWhiteSpace()
        try expectClose()
        guard text.contains("(") else { return (text, []) }
        // `a(b(name))`: every word before a `(` is a transform, the last word is the name.
        var transforms: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "(") {
            transforms.append(String(rest[..<open]))
            rest = rest[rest.index(after: open)...]
        }
        let closing = rest.drop { $0 != ")" }
        let name = String(rest.prefix { $0 != ")" })
        guard closing.count == transforms.count, closing.allSatisfy({ $0 == ")" }), !transforms.contains(where: \.isEmpty) else {
            throw CompiledTemplates.Unsupported(description: "unfinished transform in \(text)")
        }
        return (name, transforms)
    }

    private mutating func parsePartialName() throws -> String {
        skipWhiteSpace()
        let start = position
        while !atEnd, Self.partialNameBytes.contains(current) { position += 1 }
        let name = String(decoding: bytes[start..<position], as: UTF8.self)
        skipWhiteSpace()
        try expectClose()
        return name
    }

    private mutating func skipComment() throws {
        while position + 1 < bytes.count {
            if bytes[position] == Self.close, bytes[position + 1] == Self.close {
                position += 2
                return
            }
            position += 1
        }
        throw CompiledTemplates.Unsupported(description: "unfinished comment")
    }

    /// Whether the tag just read is alone on its line; if so, the rest of the line (blanks and the
    /// line break) is consumed.
    private mutating func isStandalone(_ state: State) -> Bool {
        guard state.newLine else { return false }
        if atEnd { return true }
        var index = position
        while index < bytes.count, bytes[index] == Self.space || bytes[index] == Self.tab { index += 1 }
        let breakLength = lineBreak(at: index)
        guard breakLength > 0 else { return false }
        position = index + breakLength
        return true
    }

    private static func templateName(_ name: String, transforms: [String]) throws -> TemplateName {
        let parts = name.split(separator: ".").map(String.init)
        let parsed: TemplateName
        if name == "." {
            parsed = TemplateName(root: .current, parts: [], transforms: transforms)
        } else if name.isEmpty, !transforms.isEmpty {
            parsed = TemplateName(root: .sequence, parts: [], transforms: transforms)
        } else if name.first == "." {
            parsed = TemplateName(root: .top, parts: parts, transforms: transforms)
        } else {
            parsed = TemplateName(root: .stack, parts: parts, transforms: transforms)
        }
        let known = TemplateName.listTransforms.union(TemplateName.textTransforms).union(TemplateName.numberTransforms)
        for (index, transform) in transforms.enumerated() {
            let innermostOfPlace = parsed.root == .sequence && index == transforms.count - 1
            guard innermostOfPlace ? TemplateName.sequenceTransforms.contains(transform) : known.contains(transform) else {
                throw CompiledTemplates.Unsupported(description: "the transform \(transform)() is not compiled")
            }
        }
        return parsed
    }
}

// MARK: - Renderer

/// Where a render is: the values around it (innermost last), the item's place when directly in a
/// list, the indentation of the partial it is in, and the blocks overridden by inheriting templates.
struct Context {
    var stack: [TemplateValue]
    var sequence: (index: Int, first: Bool, last: Bool)?
    var indentation: [UInt8] = []
    var overrides: [String: [Node]] = [:]

    func with(_ value: TemplateValue, sequence: (index: Int, first: Bool, last: Bool)? = nil) -> Context {
        var context = self
        context.stack.append(value)
        context.sequence = sequence
        return context
    }
}

/// A value a tag found, after its transforms: a template value, or what a transform made of one.
private enum Found {
    case value(TemplateValue)
    /// `reversed(list)`, kept as a list.
    case items([TemplateValue])
}

struct TemplateRenderer {
    let templates: [String: [Node]]
    var output: [UInt8] = []

    mutating func render(_ nodes: [Node], context: Context) {
        if context.indentation.isEmpty {
            for node in nodes { render(node, context: context) }
            return
        }
        // In an indented partial, every line it writes after the first starts with the indentation
        // (checked where each tag or text starts, as swift-mustache does).
        let start = output.count
        for node in nodes {
            let before = output.count
            render(node, context: context)
            if output.count > before, before > start, output[before - 1] == UInt8(ascii: "\n") {
                output.insert(contentsOf: context.indentation, at: before)
            }
        }
    }

    private mutating func render(_ node: Node, context: Context) {
        switch node {
        case .text(let bytes):
            output.append(contentsOf: bytes)
        case .variable(let name, let escaped):
            guard let found = lookup(name, context: context) else { return }
            switch found {
            case .value(.text(let text)): write(text, escaped: escaped)
            case .value(.number(let number)): write(String(number), escaped: escaped)
            case .value(.flag(let flag)): write(flag ? "true" : "false", escaped: escaped)
            case .value(.list), .value(.object), .items: break
            }
        case .section(let name, let nodes):
            switch lookup(name, context: context) {
            case .value(.list(let items))?, .items(let items)?:
                for (index, item) in items.enumerated() {
                    render(nodes, context: context.with(item, sequence: (index, index == 0, index == items.count - 1)))
                }
            case .value(.flag(let flag))?:
                if flag { render(nodes, context: context) }
            case .value(let value)?:
                render(nodes, context: context.with(value))
            case nil:
                break
            }
        case .inverted(let name, let nodes):
            switch lookup(name, context: context) {
            case .value(.list(let items))?, .items(let items)?:
                if items.isEmpty { render(nodes, context: context.with(.list([]))) }
            case .value(.flag(let flag))?:
                if !flag { render(nodes, context: context) }
            case .value?:
                break
            case nil:
                render(nodes, context: context)
            }
        case .partial(let name, let indentation, let overrides):
            guard let nodes = templates[name] else { return }
            var inner = context
            inner.sequence = nil
            if let indentation { inner.indentation += indentation }
            if let overrides {
                // The outermost template's blocks win.
                inner.overrides = context.overrides.merging(overrides) { outer, _ in outer }
            }
            render(nodes, context: inner)
        case .block(let name, let defaults, let indentation):
            var inner = context
            inner.sequence = nil
            inner.indentation += indentation
            render(context.overrides[name] ?? defaults, context: inner)
        case .blockDefinition:
            break
        }
    }

    private func lookup(_ name: TemplateName, context: Context) -> Found? {
        var value: TemplateValue?
        switch name.root {
        case .current:
            value = context.stack.last
        case .sequence:
            // The innermost transform reads the item's place; any others apply to what it gave.
            guard let place = context.sequence, let innermost = name.transforms.last else { return nil }
            switch innermost {
            case "first": value = .flag(place.first)
            case "last": value = .flag(place.last)
            case "index": value = .number(place.index)
            case "even": value = .flag(place.index & 1 == 0)
            case "odd": value = .flag(place.index & 1 == 1)
            default: return nil
            }
            var found = Found.value(value!)
            for transform in name.transforms.dropLast().reversed() {
                guard let next = Self.transform(found, transform) else { return nil }
                found = next
            }
            return found
        case .top:
            value = context.stack.last
            for part in name.parts { value = value?.child(part) }
        case .stack:
            for object in context.stack.reversed() {
                if let found = object.child(name.parts[0]) {
                    value = found
                    for part in name.parts.dropFirst() { value = value?.child(part) }
                    break
                }
            }
        }
        guard let value else { return nil }
        var found = Found.value(value)
        for transform in name.transforms.reversed() {
            guard let next = Self.transform(found, transform) else { return nil }
            found = next
        }
        return found
    }

    private static func transform(_ found: Found, _ name: String) -> Found? {
        switch found {
        case .value(.list(let items)), .items(let items):
            switch name {
            case "first": return items.first.map(Found.value)
            case "last": return items.last.map(Found.value)
            case "reversed": return .items(items.reversed())
            case "count": return .value(.number(items.count))
            case "empty": return .value(.flag(items.isEmpty))
            default: return nil
            }
        case .value(.text(let text)):
            switch name {
            case "empty": return .value(.flag(text.isEmpty))
            case "capitalized": return .value(.text(text.capitalized))
            case "lowercased": return .value(.text(text.lowercased()))
            case "uppercased": return .value(.text(text.uppercased()))
            case "reversed": return .value(.text(String(text.reversed())))
            default: return nil
            }
        case .value(.number(let number)):
            switch name {
            case "equalzero": return .value(.flag(number == 0))
            case "plusone": return .value(.number(number + 1))
            case "minusone": return .value(.number(number - 1))
            case "even": return .value(.flag(number & 1 == 0))
            case "odd": return .value(.flag(number & 1 == 1))
            default: return nil
            }
        case .value(.object(let fields)):
            switch name {
            case "count": return .value(.number(fields.count))
            case "empty": return .value(.flag(fields.isEmpty))
            default: return nil
            }
        case .value(.flag):
            return nil
        }
    }

    /// Appends `text`, with `<`, `>`, `&`, `"` and `'` escaped when `escaped`.
    private mutating func write(_ text: String, escaped: Bool) {
        var text = text
        text.withUTF8 { bytes in
            guard escaped else {
                output.append(contentsOf: bytes)
                return
            }
            var runStart = 0
            for index in 0..<bytes.count {
                let replacement: StaticString
                switch bytes[index] {
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "\""): replacement = "&quot;"
                case UInt8(ascii: "'"): replacement = "&#39;"
                default: continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                output.append(contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
    }
}
