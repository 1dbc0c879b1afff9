import Foundation
import Hummingbird
import MastheadCore
import MastheadImaging
import MastheadRendering
import MastheadStorage

/// Rendering for the newsroom's pages: the frame every page shares and small formatting helpers.
enum AdminPages {
    /// Messages shown after a successful form, named in the redirect's `notice` parameter.
    static let notices: [String: String] = [
        "saved": "Saved.", "published": "Saved and published.", "scheduled": "Saved and scheduled.",
        "review": "Saved and sent for review.", "unpublished": "Unpublished: the article is a draft again.",
        "deleted": "The article was deleted.", "uploaded": "The image was uploaded.", "media-saved": "The image's words were saved.",
        "media-deleted": "The image was deleted.", "restored": "The revision was restored.", "corrected": "The note was appended to the article.",
        "settings": "The settings were saved.", "password": "Your password was changed.", "key-revoked": "The key was revoked.", "keys-revoked": "The API keys of that account were revoked.",
        "user-saved": "The account was saved.", "section-saved": "The section was saved.", "section-deleted": "The section was deleted.",
        "tag-saved": "The tag was saved.", "tag-deleted": "The tag was deleted.", "author-saved": "The author profile was saved.",
        "author-deleted": "The author profile was deleted.", "signed-out": "You are signed out.", "webhook-removed": "The webhook was removed.", "retrying": "The delivery will be sent again within seconds.", "consent-deleted": "The records of that consent id were deleted.", "tips-unlocked": "The newsroom's key is unlocked for 30 minutes.",
        "tips-locked": "The key is locked.", "tip-replied": "The reply was sealed and stored for the source.", "tip-updated": "Saved.",
        "tip-deleted": "The tip and its messages were deleted.", "password-set": "Your password is set: sign in with it.",
    ]

    /// The page `template` inside the newsroom's frame.
    static func render(
        _ newsroom: Newsroom, _ template: String, title: String, context: MastheadRequestContext, request: Request? = nil,
        status: HTTPResponse.Status = .ok, error: String? = nil, values: [String: Any] = [:]
    ) -> Response {
        var view = values
        let settings = newsroom.site.settings.current
        view["title"] = title
        view["siteTitle"] = settings.title
        view["assetsVersion"] = newsroom.templates.assetsVersion
        if let session = context.session {
            let user = session.user
            let current = request?.uri.path ?? ""
            var navigation: [(String, String)] = [("Articles", "/admin/articles/"), ("Media", "/admin/media/")]
            if user.role >= .editor { navigation += [("Sections and tags", "/admin/taxonomy/"), ("Authors", "/admin/authors/"), ("Audience", "/admin/audience/"), ("Tips", "/admin/tips/")] }
            if user.role >= .admin {
                navigation += [("Accounts", "/admin/users/"), ("Settings", "/admin/settings/"), ("Webhooks", "/admin/webhooks/"), ("Consent records", "/admin/consent/")]
            }
            navigation.append(("Your account", "/admin/account/"))
            view["user"] = [
                "name": user.name, "roleLabel": user.role.label, "csrf": session.csrfToken,
                "navigation": navigation.map { ["name": $0.0, "path": $0.1, "isCurrent": current.hasPrefix($0.1)] },
            ]
            view["csrf"] = view["csrf"] ?? session.csrfToken
        }
        if let notice = request.flatMap({ PublicSiteController.formValues($0.uri.query ?? "")["notice"] }).flatMap({ notices[$0] }) {
            view["notice"] = notice
        }
        if let error { view["error"] = error }
        let html: String
        do {
            html = try newsroom.templates.render(withoutNils(view), template: template)
        } catch {
            html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><main><h1>The newsroom's template \(template) failed</h1></main></body></html>"
        }
        if request?.method == .head { return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"]) }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The view with every optional unwrapped and every nil left out, so templates see a value or nothing.
    static func withoutNils(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return NSNull() }
            return withoutNils(wrapped)
        }
        if let dictionary = value as? [String: Any] {
            return dictionary.compactMapValues { value -> Any? in
                let cleaned = withoutNils(value)
                return cleaned is NSNull ? nil : cleaned
            }
        }
        if let array = value as? [Any] { return array.map(withoutNils).filter { !($0 is NSNull) } }
        return value
    }

    static func messagePage(
        _ newsroom: Newsroom, context: MastheadRequestContext, status: HTTPResponse.Status, title: String, message: String,
        link: (label: String, path: String)? = nil
    ) -> Response {
        var values: [String: Any] = ["message": message]
        if let link { values["link"] = ["label": link.label, "path": link.path] }
        return render(newsroom, "message", title: title, context: context, status: status, values: values)
    }

    /// A 303 to `path` with a notice to show there.
    static func redirect(_ path: String, notice: String? = nil) -> Response {
        let location = notice.map { path + (path.contains("?") ? "&" : "?") + "notice=" + $0 } ?? path
        return Response(status: .seeOther, headers: [.location: location])
    }

    /// The HTTP status for an error thrown while handling a form.
    static func status(for error: MastheadError) -> HTTPResponse.Status {
        switch error.code {
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        default: .unprocessableContent
        }
    }

    /// A sentence for the person at the form: the message, with the field it concerns.
    static func sentence(_ error: MastheadError) -> String {
        let message = error.message.prefix(1).uppercased() + error.message.dropFirst()
        guard let field = error.location?.field else { return message + "." }
        return "\(message) (\(fieldLabels[field] ?? field))."
    }

    static let fieldLabels = [
        "title": "Headline", "summary": "Dek", "body": "Body", "slug": "Slug", "section": "Section", "tags": "Tags",
        "authors": "Authors", "image_alt": "Alt text", "publish_at": "Publish at", "file": "Image file", "email": "Email address",
        "password": "Password", "name": "Name", "role": "Role", "version": "Version", "text": "Text", "url": "Address", "events": "Events",
    ]

    // MARK: Formatting

    static func date(_ date: Date, _ timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = timeZone
        formatter.dateFormat = "d MMM yyyy, HH:mm"
        return formatter.string(from: date)
    }

    /// The value of a `datetime-local` input in the site's time zone.
    static func localInput(_ date: Date, _ timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }

    /// Reads a `datetime-local` value (`2026-11-29T14:30` or with seconds) in the site's time zone.
    static func parseLocalInput(_ text: String, _ timeZone: TimeZone) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    static func options<T>(_ items: [T], value: (T) -> String, label: (T) -> String, selected: (T) -> Bool) -> [[String: Any]] {
        items.map { ["value": value($0), "label": label($0), "selected": selected($0)] }
    }
}
