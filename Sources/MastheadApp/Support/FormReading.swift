import Foundation
import Hummingbird
import MastheadForms

extension FormData {
    /// Reads the body of `request` as a form, within `limits`: a body announced or found larger is
    /// refused (413) as soon as that is known, before it is read whole; anything but a form is a 415.
    static func read(_ request: Request, limits: FormLimits) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.bodyBytes {
            throw HTTPError(FormError.tooLarge(limits.bodyBytes))
        }
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200 else {
                throw HTTPError(.badRequest, message: "The multipart form names no boundary.")
            }
            let reader = MultipartReader(boundary: boundary, limits: limits)
            do {
                for try await chunk in request.body { try reader.consume(chunk) }
                return try reader.form()
            } catch let error as FormError {
                reader.discard()
                throw HTTPError(error)
            } catch {
                reader.discard()
                throw HTTPError(.badRequest, message: "The form could not be read to its end.")
            }
        }
        let limit = min(limits.bodyBytes, limits.fieldBytes)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPError(FormError.tooLarge(limit))
        } catch {
            throw HTTPError(.badRequest, message: "The form could not be read to its end: the request body is malformed or cut short.")
        }
        if contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            let form = FormData(urlEncoded: String(buffer: buffer))
            guard form.fields.values.reduce(0, { $0 + $1.count }) <= limits.parts else {
                throw HTTPError(.contentTooLarge, message: "The form has more than \(limits.parts) fields.")
            }
            return form
        }
        if buffer.readableBytes == 0 { return FormData() }
        throw HTTPError(.unsupportedMediaType, message: "Forms must be sent as application/x-www-form-urlencoded or multipart/form-data.")
    }
}

extension HTTPError {
    /// The answer to a refused form.
    init(_ error: FormError) {
        let status: HTTPResponse.Status = switch error.kind {
        case .malformed: .badRequest
        case .tooLarge: .contentTooLarge
        case .unsupportedType: .unsupportedMediaType
        case .storage: .insufficientStorage
        }
        self.init(status, message: error.message)
    }
}
