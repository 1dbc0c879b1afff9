import Foundation
import Hummingbird
import MastheadCore
import MastheadStorage

/// The audience dashboard (editors) and the consent records (admins: export, delete on request).
struct AdminPrivacy: Sendable {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom

    var store: Store { newsroom.store }

    func addRoutes(to router: Router<Context>) {
        router.get("/admin/audience") { request, context in try await audience(request, context) }
        router.get("/admin/consent") { request, context in try await consentLog(request, context) }
        router.get("/admin/consent/export.csv") { _, context in try await export(context) }
        router.post("/admin/consent/delete") { _, context in
            try AdminController.user(context, atLeast: .admin)
            let id = context.form?["consent_id"] ?? ""
            guard try await store.deleteConsentRecords(id: id) > 0 else {
                throw HTTPError(.notFound, message: "No record has the consent id \(id).")
            }
            return AdminPages.redirect("/admin/consent/", notice: "consent-deleted")
        }
    }

    private func audience(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        try await newsroom.site.audience.flush()
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        let recorder = newsroom.site.audience
        let today = recorder.day(of: .now)
        let days = max(1, min(3660, query["days"].flatMap(Int.init) ?? 7))
        let valid = { (text: String?) -> String? in text.flatMap { $0.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil ? $0 : nil } }
        let until = valid(query["until"]) ?? today
        let from = valid(query["from"]) ?? recorder.day(of: Date.now.addingTimeInterval(-Double(days - 1) * 86_400))
        let report = try await store.audienceReport(from: from, until: until)
        let sections = Dictionary(uniqueKeysWithValues: try await store.sections().map { ($0.slug, $0.name) })
        var articles: [[String: Any]] = []
        var sectionViews: [String: Int] = [:]
        for page in report.pages {
            let parts = page.path.split(separator: "/").map(String.init)
            guard let first = parts.first, let section = sections[first] else { continue }
            sectionViews[section, default: 0] += page.views
            if parts.count == 2, articles.count < 20, let article = try await store.article(slug: parts[1]) {
                articles.append(["path": page.path, "title": article.title, "section": section, "views": page.views, "visitors": page.visitors])
            }
        }
        let sectionRows = sectionViews.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }.map { ["name": $0.key, "views": $0.value] as [String: Any] }
        return AdminPages.render(newsroom, "audience", title: "Audience", context: context, request: request, values: [
            "from": from, "until": until, "views": report.views, "visitors": report.visitors,
            "articles": articles, "hasArticles": !articles.isEmpty, "sections": sectionRows, "hasSections": !sectionRows.isEmpty,
            "referrers": report.referrers.map { ["domain": $0.domain, "views": $0.views] }, "hasReferrers": !report.referrers.isEmpty,
            "pages": report.pages.map { ["path": $0.path, "views": $0.views, "visitors": $0.visitors] }, "hasPages": !report.pages.isEmpty,
            "days": report.days.map { ["day": $0.day, "views": $0.views, "visitors": $0.visitors] }, "hasDays": !report.days.isEmpty,
        ])
    }

    private func consentLog(_ request: Request, _ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let records = try await store.consentRecords()
        let timeZone = newsroom.timeZone
        return AdminPages.render(newsroom, "consent-log", title: "Consent records", context: context, request: request, values: [
            "total": records.count, "single": records.count == 1, "hasRecords": !records.isEmpty,
            "records": records.suffix(200).reversed().map { record -> [String: Any] in
                ["time": AdminPages.date(record.createdAt, timeZone), "id": record.consentID, "version": record.policyVersion,
                 "action": record.action, "granted": record.granted.isEmpty ? "nothing" : record.granted.joined(separator: ", ")]
            },
        ])
    }

    private func export(_ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .admin)
        let iso = ISO8601DateFormatter()
        var csv = "time,consent_id,policy_version,action,granted\r\n"
        for record in try await store.consentRecords() {
            csv += "\(iso.string(from: record.createdAt)),\(record.consentID),\(record.policyVersion),\(record.action),\"\(record.granted.joined(separator: " "))\"\r\n"
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"consent-records.csv\""],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

}
