import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadCore
import MastheadTesting
import Synchronization
import Testing

@Suite struct ImporterTests {
    @Test func importsImagesWithTheirSizeIntoTheMediaFolder() async throws {
        try await withTestSite { test in
            try test.writeJPEG("in/photo one.jpg", width: 400, height: 300)
            try test.writeArticle("in/story.md", frontMatter: [
                "title: Harbour at dawn", "section: World", "image: photo one.jpg", "image_caption: The harbour.",
            ])
            let imported = try await test.importArticles(test.directory + "/in")
            #expect(imported.map(\.path) == ["/world/harbour-at-dawn/"])
            let article = try #require(try await test.site.store.article(slug: "harbour-at-dawn"))
            let image = try #require(article.image)
            #expect(image.source == "harbour-at-dawn/photo-one.jpg")
            #expect(image.width == 400 && image.height == 300)
            // No alt text given: the caption stands in, so the picture is never undescribed.
            #expect(image.alt == "The harbour.")
            #expect(FileManager.default.fileExists(atPath: test.site.configuration.mediaDirectory + "/harbour-at-dawn/photo-one.jpg"))
        }
    }

    @Test func bodyImagesAreCopiedAndServedResponsively() async throws {
        try await withTestSite { test in
            try test.writeJPEG("in/night shot.jpg", width: 1200, height: 800)
            try test.writeArticle("in/story.md", frontMatter: ["title: Harbour by night", "section: World"], body: """
                The harbour after dark.

                ![Cranes lit <orange> at night](night%20shot.jpg)

                ![A chart](https://example.org/chart.png)
                """)
            try await test.importArticles(test.directory + "/in")
            let store = test.site.store
            let article = try #require(try await store.article(slug: "harbour-by-night"))
            // Stored: which picture and its size; the Markdown names its new address, so the newsroom edits what readers see.
            #expect(article.bodyHTML.contains(#"<img src="/media/harbour-by-night/night-shot.jpg" alt="Cranes lit &lt;orange&gt; at night" width="1200" height="800" data-placeholder="data:image/"#))
            #expect(article.bodyHTML.contains(#"<img src="https://example.org/chart.png" alt="A chart""#))
            let editable = try #require(try await store.editableArticle(id: article.id))
            #expect(editable.content.bodyMarkdown.contains("![Cranes lit <orange> at night](/media/harbour-by-night/night-shot.jpg)"))
            #expect(FileManager.default.fileExists(atPath: test.site.configuration.mediaDirectory + "/harbour-by-night/night-shot.jpg"))
            // Listed in the media library, so the newsroom finds it.
            #expect(try await store.mediaItems(search: "night", limit: 10).items.map(\.path) == ["harbour-by-night/night-shot.jpg"])

            // Offered responsively when the page is rendered.
            let application = try await buildApplication(site: test.site)
            try await application.test(.router) { client in
                let page = String(buffer: try await client.execute(uri: "/world/harbour-by-night/", method: .get).body)
                #expect(page.contains(#"<img src="/img/-/w800/harbour-by-night/night-shot.jpg" srcset="/img/-/w320/harbour-by-night/night-shot.jpg 320w, "#))
                #expect(page.contains(#" sizes="(min-width: 46rem) 44rem, 100vw" width="1200" height="800" alt="Cranes lit &lt;orange&gt; at night" loading="lazy""#))

                // Saved again in the editor, unchanged: the same picture, the same size.
                let editor = try await store.addUser(email: "ed@example.org", name: "Ed", role: .editor, passwordHash: nil)
                let html = try await store.bodyHTML(markdown: editable.content.bodyMarkdown, renderer: MarkdownRenderer())
                _ = try await store.saveArticle(id: article.id, content: editable.content, bodyHTML: html, basedOn: editable.summary.version, by: editor)
                let saved = try #require(try await store.article(slug: "harbour-by-night"))
                #expect(saved.bodyHTML.contains(#"<img src="/media/harbour-by-night/night-shot.jpg" alt="Cranes lit &lt;orange&gt; at night" width="1200" height="800""#))
            }
        }
    }

    @Test func aMissingBodyImageIsNamedWithItsLine() async throws {
        try await withTestSite { test in
            try test.writeArticle("in/story.md", frontMatter: ["title: A", "section: World"], body: "First.\n\nSecond ![gone](gone.jpg)\n")
            await #expect {
                try await test.importArticles(test.directory + "/in")
            } throws: { error in
                let error = error as! MastheadError
                return error.location?.line == 7 && error.message.contains("gone.jpg")
            }
        }
    }

    @Test func aLargeImportIsReadInBatchesAndReportsItsProgress() async throws {
        try await withTestSite { test in
            let count = ContentImporter.readBatch * 2 + 7
            for number in 0..<count {
                try test.writeArticle("many/\(number).md", frontMatter: ["title: Story \(number)", "section: World", "tags: [Tag \(number % 5)]"])
            }
            let reports = Mutex<[Int]>([])
            let imported = try await test.site.importer.importArticles(from: [test.directory + "/many"]) { done, total in
                #expect(total == count)
                reports.withLock { $0.append(done) }
            }
            #expect(imported.count == count)
            let seen = reports.withLock { $0 }
            #expect(seen == seen.sorted() && seen.last == count && seen.count >= 3, "\(seen)")
            #expect(try await test.site.store.countPublishedArticles(.init()) == count)
        }
    }

    @Test func withBatchesABadFileKeepsTheBatchesBeforeIt() async throws {
        try await withTestSite { test in
            for number in 1...5 {
                let date = number == 4 ? "date: 31/31/2026" : "date: 2026-11-0\(number)"
                try test.writeArticle("batches/\(number).md", frontMatter: ["title: Story \(number)", "section: World", date])
            }
            await #expect(throws: MastheadError.self) {
                try await test.site.importer.importArticles(from: [test.directory + "/batches"], batchSize: 2)
            }
            // Stories 1 and 2 were one committed batch; 3 and 4 were the batch that failed.
            #expect(try await test.site.store.article(slug: "story-1") != nil)
            #expect(try await test.site.store.article(slug: "story-2") != nil)
            #expect(try await test.site.store.article(slug: "story-3") == nil)
            #expect(try await test.site.store.article(slug: "story-5") == nil)
        }
    }

    @Test func oneBadFileStopsTheWholeImportAndNamesFileLineAndField() async throws {
        try await withTestSite { test in
            try test.writeJPEG("batch/a.jpg")
            try test.writeArticle("batch/1-good.md", frontMatter: ["title: Good story", "section: World", "image: a.jpg"])
            try test.writeArticle("batch/2-bad.md", frontMatter: ["title: Bad story", "section: World", "date: 31/31/2026"])
            await #expect {
                try await test.importArticles(test.directory + "/batch")
            } throws: { error in
                let error = error as! MastheadError
                return error.location?.file?.hasSuffix("2-bad.md") == true && error.location?.line == 4 && error.location?.field == "date"
            }
            #expect(try await test.site.store.isEmpty())
            #expect(try await test.site.store.sections().isEmpty)
            let media = (try? FileManager.default.subpathsOfDirectory(atPath: test.site.configuration.mediaDirectory)) ?? []
            let images = media.filter { !$0.hasSuffix("/") && $0.contains(".") && $0 != ".staging" && $0 != ".staging/.lock" }
            #expect(images.isEmpty, "no image left behind: \(media)")
        }
    }

    @Test func missingOrBrokenImagesAreNamed() async throws {
        try await withTestSite { test in
            try test.writeArticle("m/1.md", frontMatter: ["title: A", "section: World", "image: nowhere.jpg"])
            await #expect {
                try await test.importArticles(test.directory + "/m")
            } throws: { error in
                let error = error as! MastheadError
                return error.location?.field == "image" && error.location?.line == 4
            }
            try test.write("this is not a JPEG", to: "b/fake.jpg")
            try test.writeArticle("b/1.md", frontMatter: ["title: B", "section: World", "image: fake.jpg"])
            await #expect {
                try await test.importArticles(test.directory + "/b")
            } throws: { error in
                (error as! MastheadError).location?.field == "image"
            }
            #expect(try await test.site.store.isEmpty())
        }
    }

    @Test func emptyOrMissingPathsAreErrors() async throws {
        try await withTestSite { test in
            try FileManager.default.createDirectory(atPath: test.directory + "/empty", withIntermediateDirectories: true)
            await #expect(throws: MastheadError.self) { try await test.importArticles(test.directory + "/empty") }
            await #expect(throws: MastheadError.self) { try await test.importArticles(test.directory + "/missing") }
        }
    }

    @Test func theDemoNewsroomLoadsCompletely() async throws {
        try await withTestSite { test in
            let imported = try await DemoContent(directory: TestSite.repositoryRoot + "/Demo").load(into: test.site.importer)
            #expect(imported.count >= 12)
            let store = test.site.store
            #expect(try await store.sections().map(\.name) == ["World", "Politics", "Business", "Technology", "Science", "Opinion"])
            let articles = try await store.publishedArticles(limit: 100, now: .distantFuture)
            #expect(Set(articles.flatMap(\.authors).map(\.slug)).count >= 3)
            #expect(articles.allSatisfy { $0.image?.width == 1600 && !$0.tags.isEmpty })
            #expect(articles.contains { $0.section.name == "Opinion" && $0.disclaimer })
            var corrected = 0
            for article in articles where try await store.article(slug: article.slug)?.corrections.isEmpty == false { corrected += 1 }
            #expect(corrected >= 1)
            #expect(try await store.page(slug: "about") != nil)
            #expect(try await store.page(slug: "privacy") != nil)
        }
    }

    @Test func anImportedStoryEditedInTheNewsroomKeepsItsTextAndTheImportBecomesARevision() async throws {
        try await withTestSite { test in
            let store = test.site.store
            try test.writeArticle("in/story.md", frontMatter: ["title: Harbour reopens", "section: World"], body: "First text.")
            try await test.importArticles(test.directory + "/in")
            let article = try #require(try await store.article(slug: "harbour-reopens"))
            #expect(try await store.revisions(articleID: article.id).map(\.kind) == [.import])

            // The same file again: nothing changes, no new version.
            let again = try await test.importArticles(test.directory + "/in")
            #expect(again.map(\.change) == [.unchanged])
            #expect(try await store.articleSummary(id: article.id)?.version == 1)

            // An editor changes the story; then the file changes too and is imported again.
            let editor = try await store.addUser(email: "ed@example.org", name: "Ed", role: .editor, passwordHash: nil)
            var content = try #require(try await store.editableArticle(id: article.id)).content
            content.bodyMarkdown = "The editor rewrote it."
            _ = try await store.saveArticle(
                id: article.id, content: content, bodyHTML: MarkdownRenderer().html(from: content.bodyMarkdown), basedOn: 1, by: editor)
            try test.writeArticle("in/story.md", frontMatter: ["title: Harbour reopens", "section: World"], body: "The wire sent a new text.")
            let third = try await test.importArticles(test.directory + "/in")
            #expect(third.map(\.change) == [.keptEdits])
            let kept = try #require(try await store.article(slug: "harbour-reopens"))
            #expect(kept.bodyHTML.contains("The editor rewrote it."))
            let revisions = try await store.revisions(articleID: article.id)
            #expect(revisions.map(\.kind) == [.import, .save, .import])
            #expect(revisions.first?.content.bodyMarkdown == "The wire sent a new text.")
            #expect(revisions.first?.userName == "Markdown import")

            // And at every later import: the newsroom's text stays until the newsroom takes the import up.
            try test.writeArticle("in/story.md", frontMatter: ["title: Harbour reopens", "section: World"], body: "A third text from the wire.")
            #expect(try await test.importArticles(test.directory + "/in").map(\.change) == [.keptEdits])
            #expect(try #require(try await store.article(slug: "harbour-reopens")).bodyHTML.contains("The editor rewrote it."))
            #expect(try await test.importArticles(test.directory + "/in").map(\.change) == [.unchanged], "the same import again adds nothing")
            #expect(try await store.revisions(articleID: article.id).count == 4)
        }
    }

    @Test func aStoryTakenDownInTheNewsroomStaysDownWhenItsFileChanges() async throws {
        try await withTestSite { test in
            let store = test.site.store
            try test.writeArticle("in/story.md", frontMatter: ["title: Ferry fares rise", "section: World"], body: "Fares rise in April.")
            try await test.importArticles(test.directory + "/in")
            let article = try #require(try await store.article(slug: "ferry-fares-rise"))
            let editor = try await store.addUser(email: "ed@example.org", name: "Ed", role: .editor, passwordHash: nil)
            try await store.applyWorkflow(.unpublish, articleID: article.id, by: editor)
            try test.writeArticle("in/story.md", frontMatter: ["title: Ferry fares rise", "section: World"], body: "Fares rise in May.")
            #expect(try await test.importArticles(test.directory + "/in").map(\.change) == [.keptEdits])
            #expect(try await store.article(slug: "ferry-fares-rise")?.status == .draft)
        }
    }

    @Test func importedStoriesAreCheckedAsTheEditorChecksThem() async throws {
        try await withTestSite { test in
            try test.writeArticle("in/story.md", frontMatter: ["title: \"Bell\\u0007 rings\"", "section: World"])
            await #expect {
                try await test.importArticles(test.directory + "/in")
            } throws: { error in
                let error = error as! MastheadError
                return error.location?.file?.hasSuffix("story.md") == true && error.location?.field == "title"
            }
            #expect(try await test.site.store.article(slug: "bell-rings") == nil)
        }
    }
}
