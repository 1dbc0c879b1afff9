import Foundation
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadStorage
import MastheadTips

/// The tip inbox for editors: conversations listed by the day they came in (no more precise time
/// is kept), read after unlocking the newsroom's key for the session, replied to, assigned,
/// archived, kept past the retention period, or deleted.
struct AdminTips: Sendable {
    typealias Context = MastheadRequestContext
    let newsroom: Newsroom
    let tips: TipLine

    var store: Store { newsroom.store }

    func addRoutes(to router: Router<Context>) {
        router.get("/admin/tips") { request, context in try await inbox(request, context) }
        router.post("/admin/tips/unlock") { request, context in try await unlock(request, context) }
        router.post("/admin/tips/lock") { _, context in
            try AdminController.user(context, atLeast: .editor)
            try await tips.lock(session: context.session?.token ?? "")
            return AdminPages.redirect("/admin/tips/", notice: "tips-locked")
        }
        router.get("/admin/tips/:id") { request, context in try await thread(request, context) }
        router.get("/admin/tips/:id/messages/:message/:file") { _, context in try await download(context) }
        router.post("/admin/tips/:id/reply") { request, context in
            try AdminController.user(context, atLeast: .editor)
            let thread = try await found(context)
            let text = (context.form?.raw("text") ?? "").replacingOccurrences(of: "\r\n", with: "\n")
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return try await self.thread(request, context, error: "Write a reply first (Reply).")
            }
            try await tips.reply(text, to: thread)
            return AdminPages.redirect("/admin/tips/\(thread.id)/", notice: "tip-replied")
        }
        router.post("/admin/tips/:id/update") { _, context in
            try AdminController.user(context, atLeast: .editor)
            let thread = try await found(context)
            let form = context.form ?? FormData()
            let assignee: Int64?? = form.has("assignee") ? .some(Int64(form["assignee"])) : nil
            try await store.updateTipThread(
                id: thread.id, status: TipThread.Status(rawValue: form["status"]), assigneeID: assignee, keep: form.has("status") ? form["keep"] == "on" : nil)
            return AdminPages.redirect("/admin/tips/\(thread.id)/", notice: "tip-updated")
        }
        router.post("/admin/tips/:id/delete") { _, context in
            try AdminController.user(context, atLeast: .editor)
            let thread = try await found(context)
            try await store.deleteTipThread(id: thread.id)
            return AdminPages.redirect("/admin/tips/", notice: "tip-deleted")
        }
    }

    private func inbox(_ request: Request, _ context: Context, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let query = PublicSiteController.formValues(request.uri.query ?? "")
        let archived = query["archived"] == "1"
        let key = try await tips.key()
        let threads = try await store.tipThreads(includeArchived: archived)
        return AdminPages.render(newsroom, "tips", title: "Tip inbox", context: context, request: request, status: status, error: error, values: [
            "hasKey": key != nil, "keyOnServer": key?.protected != nil,
            "unlocked": try await tips.unlockedKey(session: context.session?.token ?? "") != nil,
            "archived": archived, "hasThreads": !threads.isEmpty, "retentionDays": tips.limits.retentionDays,
            "threads": threads.map { thread -> [String: Any] in
                ["id": thread.id, "received": thread.receivedDay, "last": thread.lastDay, "status": thread.status.rawValue.capitalized,
                 "assignee": thread.assigneeName ?? "nobody", "messages": thread.messageCount, "keep": thread.keep]
            },
        ])
    }

    private func unlock(_ request: Request, _ context: Context) async throws -> Response {
        let user = try AdminController.user(context, atLeast: .editor)
        do {
            try await tips.unlock(session: context.session?.token ?? "", userID: user.id, passphrase: context.form?.raw("passphrase") ?? "")
        } catch let error as TipCryptoError {
            return try await inbox(request, context, error: "The key stays locked: \(error.description).", status: .unprocessableContent)
        } catch let refusal as TipRefusal {
            return try await inbox(request, context, error: refusal.message, status: .unprocessableContent)
        }
        let next = context.form?["next"] ?? ""
        return AdminPages.redirect(next.hasPrefix("/admin/tips/") ? next : "/admin/tips/", notice: "tips-unlocked")
    }

    private func thread(_ request: Request, _ context: Context, error: String? = nil) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let thread = try await found(context)
        let key = try await tips.unlockedKey(session: context.session?.token ?? "")
        var messages: [[String: Any]] = []
        var problem: String?
        if let key {
            for message in try await store.tipMessages(threadID: thread.id) {
                do {
                    let content = try TipContent.opened(message.newsroomBox, with: key, context: TipContent.context(thread: thread.lookupHash))
                    messages.append([
                        "fromSource": message.fromSource, "day": message.day, "text": content.text, "contact": content.contact,
                        "attachments": content.attachments.enumerated().map { index, file -> [String: Any] in
                            ["name": file.name, "size": MediaLibrary.megabytes(file.data.count), "cleaned": file.metadataRemoved,
                             "path": "/admin/tips/\(thread.id)/messages/\(message.id)/\(index)"]
                        },
                    ])
                } catch {
                    problem = "Some messages cannot be opened with the unlocked key (they were sealed to another key)."
                }
            }
            if thread.status == .new { try await store.updateTipThread(id: thread.id, status: .read) }
        }
        let editors = try await store.users().filter { $0.role >= .editor && !$0.isDisabled }
        return AdminPages.render(newsroom, "tip", title: "Tip received \(thread.receivedDay)", context: context, request: request, error: error ?? problem, values: [
            "id": thread.id, "received": thread.receivedDay, "unlocked": key != nil, "messages": messages, "keep": thread.keep,
            "statuses": AdminPages.options(TipThread.Status.allCases, value: \.rawValue, label: { $0.rawValue.capitalized }) { $0 == thread.status },
            "editors": AdminPages.options(editors, value: { String($0.id) }, label: \.name) { $0.id == thread.assigneeID },
            "unassigned": thread.assigneeID == nil,
        ])
    }

    private func download(_ context: Context) async throws -> Response {
        try AdminController.user(context, atLeast: .editor)
        let thread = try await found(context)
        guard let key = try await tips.unlockedKey(session: context.session?.token ?? "") else {
            throw HTTPError(.forbidden, message: "Unlock the newsroom's key first.")
        }
        let messageID = try AdminController.id(context, "message"), index = Int(try AdminController.id(context, "file"))
        guard let message = try await store.tipMessages(threadID: thread.id).first(where: { $0.id == messageID }),
              let content = try? TipContent.opened(message.newsroomBox, with: key, context: TipContent.context(thread: thread.lookupHash)),
              content.attachments.indices.contains(index)
        else { throw HTTPError(.notFound) }
        let file = content.attachments[index]
        return Response(
            status: .ok,
            headers: [
                .contentType: file.metadataRemoved ? file.type : "application/octet-stream",
                .contentDisposition: "attachment; filename=\"\(file.name.replacingOccurrences(of: "\"", with: "_"))\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    private func found(_ context: Context) async throws -> TipThread {
        guard let thread = try await store.tipThread(id: try AdminController.id(context)) else { throw HTTPError(.notFound) }
        return thread
    }

}
