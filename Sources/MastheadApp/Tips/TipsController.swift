import Foundation
import HTTPTypes
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadRendering
import MastheadStorage
import MastheadTips

/// The source's side of the tip line: `/tips/` (the form), `/tips/return/` (replies, with the
/// receipt). Pages are never cached or counted; errors never echo files and never reach a log
/// with anything of the tip in them.
struct TipsController: Sendable {
    typealias Context = MastheadRequestContext
    let tips: TipLine
    let store: Store
    let theme: Theme
    let views: ViewBuilder

    func addRoutes(to router: Router<Context>) {
        router.get("/tips") { request, _ in try await withoutThirdParties { try await form(request) } }
        router.post("/tips") { request, context in try await withoutThirdParties { try await submit(request, context) } }
        router.get("/tips/return") { request, _ in try await withoutThirdParties { try await returnPage(request) } }
        router.post("/tips/return") { request, context in try await withoutThirdParties { try await open(request, context) } }
        router.post("/tips/return/message") { request, context in
            try await withoutThirdParties { try await followUp(request, context) }
        }
    }

    /// Tip pages are built as if the reader had granted nothing: no third-party script or embed,
    /// and a Content-Security-Policy to match (set by ``page(_:status:)``), whatever they agreed to elsewhere.
    private func withoutThirdParties(_ body: () async throws -> Response) async throws -> Response {
        try await ConsentState.$current.withValue(ConsentState.current.withoutGrants, operation: body)
    }

    private var maxMB: Int { tips.limits.maxFileBytes / 1_048_576 }

    private func form(_ request: Request, error: String? = nil, text: String = "", contact: String = "", status: HTTPResponse.Status = .ok) async throws -> Response {
        guard request.uri.path.hasSuffix("/") else { return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/"]) }
        let view = TipsPageView(
            frame: try await frame("Have a tip we should know?", "How to reach our reporters in confidence.", "/tips/"),
            isOpen: try await tips.key() != nil, token: tips.formToken(), error: error, text: text, contact: contact,
            maxFiles: tips.limits.maxFiles, maxMB: maxMB, retentionDays: tips.limits.retentionDays, onionAddress: tips.onionAddress)
        return page(try theme.render(view, template: "tips"), status: status)
    }

    private func submit(_ request: Request, _ context: Context) async throws -> Response {
        guard try await tips.allow(client: context.clientName) else { return try await form(request, error: TipRefusal.rateLimited.message, status: .tooManyRequests) }
        let form = try await readForm(request)
        let text = form.raw("message").replacingOccurrences(of: "\r\n", with: "\n")
        let contact = String(form["contact"].prefix(500))
        do {
            if let refusal = try await tips.useFormToken(form["token"]) { throw refusal }
            let content = try await content(text: text, contact: contact, form: form)
            let receipt = try await tips.submit(content)
            let view = TipReceiptView(
                frame: try await frame("Your tip was sent", "Keep your receipt.", "/tips/"), receipt: receipt.description, wordCount: receipt.words.count)
            return page(try theme.render(view, template: "tips-receipt"))
        } catch let refusal as TipRefusal {
            return try await self.form(request, error: refusal.message, text: text, contact: contact, status: .unprocessableContent)
        }
    }

    private func returnPage(_ request: Request) async throws -> Response {
        guard request.uri.path.hasSuffix("/") else { return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/"]) }
        return try await conversationPage(found: nil, receipt: "", sent: false, error: nil)
    }

    /// A receipt opens the conversation; a wrong one shows nothing but "no conversation".
    private func open(_ request: Request, _ context: Context) async throws -> Response {
        guard try await tips.allow(client: context.clientName) else {
            return try await conversationPage(found: nil, receipt: "", sent: false, error: TipRefusal.rateLimited.message, status: .tooManyRequests)
        }
        let form = try await readForm(request, withFiles: false)
        guard let receipt = Receipt(typed: form.raw("receipt")), let found = try await tips.conversation(receipt) else {
            return try await conversationPage(
                found: nil, receipt: "", sent: false,
                error: "No conversation matches that receipt. Check the words and try again.", status: .notFound)
        }
        return try await conversationPage(found: found, receipt: receipt.description, sent: false, error: nil)
    }

    private func followUp(_ request: Request, _ context: Context) async throws -> Response {
        guard try await tips.allow(client: context.clientName) else {
            return try await conversationPage(found: nil, receipt: "", sent: false, error: TipRefusal.rateLimited.message, status: .tooManyRequests)
        }
        let form = try await readForm(request)
        guard let receipt = Receipt(typed: form.raw("receipt")), let found = try await tips.conversation(receipt) else {
            return try await conversationPage(found: nil, receipt: "", sent: false, error: "No conversation matches that receipt.", status: .notFound)
        }
        do {
            if let refusal = try await tips.useFormToken(form["token"]) { throw refusal }
            let content = try await content(text: form.raw("message").replacingOccurrences(of: "\r\n", with: "\n"), contact: "", form: form)
            try await tips.followUp(content, thread: found.thread, lookup: found.lookup)
            return try await conversationPage(found: found, receipt: receipt.description, sent: true, error: nil)
        } catch let refusal as TipRefusal {
            return try await conversationPage(found: found, receipt: receipt.description, sent: false, error: refusal.message, status: .unprocessableContent)
        }
    }

    // MARK: Helpers

    private func content(text: String, contact: String, form: FormData) async throws -> TipContent {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw TipRefusal.emptyMessage }
        guard text.count <= tips.limits.maxTextCharacters else { throw TipRefusal.messageTooLong(tips.limits.maxTextCharacters) }
        return TipContent(text: text, contact: contact, attachments: try await tips.attachments(form.fileLists["files"] ?? []))
    }

    /// The posted form, in memory: nothing a source sends may touch the disk before it is sealed.
    /// Only forms with files may be large; the receipt form is a few words.
    private func readForm(_ request: Request, withFiles: Bool = true) async throws -> FormData {
        let limits = withFiles
            ? FormLimits(bodyBytes: tips.limits.maxFiles * tips.limits.maxFileBytes + 1_048_576, fieldBytes: 1_048_576)
            : FormLimits(bodyBytes: 16 * 1024)
        return try await FormData.read(request, limits: limits)
    }

    private func conversationPage(
        found: (thread: TipThread, lookup: String, replies: [(day: String, text: String)])?, receipt: String, sent: Bool, error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let view = TipReturnView(
            frame: try await frame("Replies to your tip", "Read the newsroom's replies with your receipt.", "/tips/return/"),
            found: found != nil, receipt: receipt, replies: (found?.replies ?? []).map { TipReturnView.Reply(day: $0.day, text: $0.text) },
            sent: sent, error: error, token: tips.formToken(), maxFiles: tips.limits.maxFiles, maxMB: maxMB)
        return page(try theme.render(view, template: "tips-return"), status: status)
    }

    private func frame(_ title: String, _ description: String, _ path: String) async throws -> FrameView {
        views.frame(title: title, description: description, path: path, sections: try await store.sections())
    }

    /// Tip pages: never stored by browsers or proxies, never sent as a referrer, and with the
    /// onion address when the site has one.
    private func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("Referrer-Policy")!: "no-referrer",
            .contentSecurityPolicy: views.consentPolicy.contentSecurityPolicy(for: ConsentState.current),
        ]
        if let onion = tips.onionAddress { headers[HTTPField.Name("Onion-Location")!] = onion + "/tips/" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
