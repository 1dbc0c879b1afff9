import Foundation
import MastheadCore
import Testing

@Suite struct NewsroomModelTests {
    func user(_ id: Int64, _ role: Role) -> User {
        User(id: id, email: "\(id)@example.org", name: "User \(id)", role: role, authorID: nil, isDisabled: false, hasPassword: true, createdAt: .now)
    }

    func article(by owner: Int64, _ status: ArticleStatus) -> ArticleSummary {
        ArticleSummary(
            id: 1, slug: "a", title: "A", status: status, section: Section(id: 1, slug: "world", name: "World"), authorNames: [],
            createdBy: owner, publishedAt: .now, modifiedAt: .now, modifiedByName: nil, version: 1)
    }

    @Test func rolesGrantWhatANewsroomExpects() {
        let contributor = user(1, .contributor), author = user(2, .author), editor = user(3, .editor), admin = user(4, .admin), owner = user(5, .owner)
        #expect(contributor.canEdit(article(by: 1, .draft)))
        #expect(contributor.canEdit(article(by: 1, .review)))
        #expect(!contributor.canEdit(article(by: 1, .published)))
        #expect(!contributor.canPublish(article(by: 1, .draft)))
        #expect(!contributor.canEdit(article(by: 2, .draft)))
        #expect(author.canPublish(article(by: 2, .draft)))
        #expect(!author.canPublish(article(by: 1, .review)))
        #expect(!author.canEdit(article(by: 3, .published)))
        #expect(editor.canPublish(article(by: 1, .review)))
        #expect(editor.canDelete(article(by: 2, .published)))
        #expect(!editor.canManage(author))
        #expect(admin.canManage(editor))
        #expect(!admin.canManage(owner))
        #expect(!owner.canManage(owner))
        #expect(owner.canManage(admin))
        #expect(!admin.role.assignableRoles.contains(.owner))
        #expect(Role.contributor < Role.author && Role.admin < Role.owner)
    }

    @Test func passwordsAndAddressesAreChecked() {
        #expect(User.passwordProblem("short") != nil)
        #expect(User.passwordProblem(String(repeating: "é", count: 40)) != nil)
        #expect(User.passwordProblem("correct horse battery") == nil)
        #expect(User.isPlausibleEmail("ed@example.org"))
        #expect(!User.isPlausibleEmail("ed@localhost"))
        #expect(!User.isPlausibleEmail("<ed@example.org>"))
        #expect(User.normalizedEmail("  Ed@Example.ORG ") == "ed@example.org")
    }

    @Test func articleContentIsCheckedFieldByField() throws {
        #expect(throws: MastheadError.self) { try ArticleContent(title: "  ", sectionID: 1).validated() }
        #expect(throws: MastheadError.self) { try ArticleContent(title: "A", slug: "Not A Slug", sectionID: 1).validated() }
        let noAlt = ArticleContent(title: "A", sectionID: 1, image: FeaturedImage(source: "a.jpg", alt: " "))
        do {
            _ = try noAlt.validated()
            Issue.record("an image without alt text was accepted")
        } catch let error as MastheadError {
            #expect(error.location?.field == "image_alt")
        }
        let content = try ArticleContent(title: " Harbour strike: what next? ", sectionID: 1, tagNames: ["Ports", "ports ", ""], authorIDs: [2, 2, 3]).validated()
        #expect(content.slug == "harbour-strike-what-next")
        #expect(content.tagNames == ["Ports"])
        #expect(content.authorIDs == [2, 3])
    }

    @Test func lineDiffMarksRemovedAndAddedLines() {
        let lines = LineDiff.lines(from: "one\ntwo\nthree", to: "one\n2\nthree\nfour")
        #expect(lines.map(\.kind) == [.same, .removed, .added, .same, .added])
        #expect(lines.map(\.text) == ["one", "two", "2", "three", "four"])
        #expect(LineDiff.lines(from: "same", to: "same").map(\.kind) == [.same])
    }
}
