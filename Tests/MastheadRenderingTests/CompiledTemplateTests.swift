import Foundation
@testable import MastheadRendering
import Mustache
import Testing

/// The compiled templates must write exactly what swift-mustache writes for the same templates
/// and values: every case renders through both and compares the bytes.
@Suite struct CompiledTemplateTests {
    /// Renders `name` from `templates` with `value` through both; returns the compiled output.
    @discardableResult
    func expectSame(_ templates: [String: String], _ value: TemplateValue, template name: String = "main", sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        var parsed: [String: MustacheTemplate] = [:]
        for (templateName, text) in templates { parsed[templateName] = try MustacheTemplate(string: text) }
        let reference = MustacheLibrary(templates: parsed).render(value.mustacheValue, withTemplate: name)
        let compiled = try CompiledTemplates(sources: templates).render(value, template: name)
        #expect(compiled == reference, "\(templates[name]!.debugDescription)", sourceLocation: sourceLocation)
        return compiled ?? ""
    }

    let story: TemplateValue = .fields([
        "title": .text("Floods <close> the \"old\" bridge & 'quay'"),
        "count": .number(3),
        "zero": .number(0),
        "yes": .flag(true),
        "no": .flag(false),
        "empty": .text(""),
        "tags": .list([.fields(["name": .text("Weather"), "path": .text("/tag/weather/")]), .fields(["name": .text("Rivers"), "path": .text("/tag/rivers/")])]),
        "none": .list([]),
        "names": .list([.text("Ann"), .text("Bo"), .text("Cy")]),
        "section": .fields(["name": .text("Local"), "path": .text("/local/"), "inner": .fields(["deep": .text("deep value")])]),
        "missing": nil,
    ])

    @Test func variablesEscapeAndLookUpTheStack() throws {
        try expectSame(["main": "<h1>{{title}}</h1>{{{title}}}{{& title}}|{{count}}|{{yes}}|{{no}}|{{nothing}}|{{section.name}}|{{section.inner.deep}}|{{ section.nope.deep }}"], story)
        try expectSame(["main": "{{#section}}{{name}} in {{title}} at {{.name}} {{.title}}{{/section}}"], story)
        try expectSame(["main": "{{#names}}[{{.}}]{{/names}} {{#tags}}<a href=\"{{path}}\">{{name}}</a>{{/tags}}"], story)
        try expectSame(["main": "{{#title}}{{.}}{{/title}}|{{#count}}{{.}} {{count}}{{/count}}|{{#zero}}zero is truthy{{/zero}}"], story)
    }

    @Test func sectionsAndInvertedSections() throws {
        try expectSame(["main": "{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^yes}}!Y{{/yes}}{{^no}}!N{{/no}}{{#nothing}}x{{/nothing}}{{^nothing}}none{{/nothing}}"], story)
        try expectSame(["main": "{{#none}}x{{/none}}{{^none}}no items{{/none}}{{^tags}}x{{/tags}}{{#empty}}empty text is truthy{{/empty}}{{^empty}}x{{/empty}}"], story)
        try expectSame(["main": "{{#tags}}{{#first()}}first:{{/first()}}{{name}}{{^last()}}, {{/last()}}{{#last()}}.{{/last()}}{{index()}}{{/tags}}"], story)
        try expectSame(["main": "{{#names}}{{#even()}}e{{/even()}}{{#odd()}}o{{/odd()}}{{plusone(index())}}{{/names}}"], story)
    }

    @Test func transforms() throws {
        try expectSame(["main": "{{^empty(tags)}}has tags{{/empty(tags)}}{{#empty(none)}}no items{{/empty(none)}}{{count(tags)}} {{first(names)}} {{last(names)}}"], story)
        try expectSame(["main": "{{#reversed(names)}}{{.}}{{/reversed(names)}} {{uppercased(section.name)}} {{lowercased(title)}} {{plusone(count)}} {{minusone(count)}}"], story)
        try expectSame(["main": "{{#equalzero(zero)}}zero{{/equalzero(zero)}}{{#odd(count)}}odd{{/odd(count)}}{{#even(count)}}even{{/even(count)}}{{capitalized(title)}}"], story)
        try expectSame(["main": "{{#first(tags)}}{{name}}{{/first(tags)}} {{count(section)}} {{#empty(missing)}}x{{/empty(missing)}}"], story)
    }

    @Test func standaloneLinesAndComments() throws {
        let text = """
            <ul>
              {{#tags}}
              <li>{{name}}</li>
              {{/tags}}
              {{^none}}
                nothing
              {{/none}}
              {{! a comment on its own line }}
            </ul>
            {{#yes}} inline {{/yes}} and {{! inline comment }} text
            \t{{#no}}\r
            no\r
            \t{{/no}}\r
            end
            """
        try expectSame(["main": text], story)
        try expectSame(["main": "{{#yes}}\n  yes\n{{/yes}}"], story)
        try expectSame(["main": "  {{#yes}}  \nbody\n  {{/yes}}  "], story)
    }

    @Test func partialsAreIndentedWhereTheyStandAlone() throws {
        let templates = [
            "main": "<div>\n  {{>card}}\n  {{#tags}}{{>card}}{{/tags}}\n{{#tags}}\n    {{> card}}\n{{/tags}}\n{{>absent}}x\n</div>\n",
            "card": "<article>\n  <h3>{{name}}</h3>\n  {{#yes}}\n  <p>{{title}}</p>\n  {{/yes}}\n</article>\n",
        ]
        try expectSame(templates, story)
    }

    @Test func inheritanceOverridesBlocks() throws {
        let layout = """
            <!doctype html>
            <title>{{$title}}Default{{/title}}</title>
            {{$head}}<meta name="default">{{/head}}
            <main>
              {{$main}}{{/main}}
            </main>
            {{#section}}{{$footer}}<p>{{name}}</p>{{/footer}}{{/section}}
            """
        let page = """
            {{<layout}}
            {{$title}}{{title}}{{/title}}
            {{$head}}<meta name="page">
            {{#tags}}<meta name="tag" content="{{name}}">
            {{/tags}}{{/head}}
            {{$main}}
            <article>
              <h1>{{title}}</h1>
                {{#names}}
                <p>{{.}}</p>
                {{/names}}
            </article>
            {{/main}}
            {{/layout}}
            """
        let html = try expectSame(["layout": layout, "main": page], story)
        #expect(html.contains("<h1>Floods &lt;close&gt; the &quot;old&quot; bridge &amp; &#39;quay&#39;</h1>"))
        try expectSame(["layout": layout, "main": "{{<layout}}{{/layout}}"], story)
        try expectSame(["layout": layout, "middle": "{{<layout}}{{$main}}middle{{$inner}}{{/inner}}{{/main}}{{/layout}}", "main": "{{<middle}}{{$inner}}inner{{/inner}}{{/middle}}"], story)
    }

    @Test func themesUsingWhatIsNotCompiledAreLeftToMustache() {
        for text in ["{{=<% %>=}}<% title %>", "{{%CONTENT_TYPE: TEXT}}{{title}}", "{{>*dynamic}}", "{{sorted(names)}}"] {
            #expect(throws: CompiledTemplates.Unsupported.self) { try CompiledTemplates(sources: ["main": text]) }
        }
    }

    /// swift-mustache escapes characters, so a quote that a combining mark joins is not one of
    /// those it escapes; the compiled templates escape bytes and catch it.
    @Test func aQuoteJoinedByACombiningMarkIsStillEscaped() throws {
        let value = TemplateValue.fields(["alt": .text("x\"\u{301} onerror=alert(1) y")])
        let html = try #require(try CompiledTemplates(sources: ["main": "<img alt=\"{{alt}}\">"]).render(value, template: "main"))
        #expect(html == "<img alt=\"x&quot;\u{301} onerror=alert(1) y\">")
    }

    /// Every template of the default theme and of the newsroom compiles.
    @Test func theShippedTemplatesCompile() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for folder in ["Themes/default", "Admin"] {
            let theme = try await Theme(directory: root.appendingPathComponent(folder).path, requiredTemplates: [])
            #expect(theme.isCompiled, "\(folder): \(theme.compileNote ?? "")")
        }
    }
}
