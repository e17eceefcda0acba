// What every service answers when it refuses a request, in one JSON shape:
// {"error": "<what is wrong, for a person>", "code": "<for clients and metrics>", "row": n, "field": "..."}.
import enum Events.JSONString
import Hummingbird

public struct APIError: Error, Sendable {
    public var status: Int
    /// Stable, snake_case: clients branch on it and metrics count it.
    public var code: String
    public var message: String
    /// The 1-based row (array element or NDJSON line) at fault, where a body has rows.
    public var row: Int?
    /// The JSON field at fault, dotted for nested fields.
    public var field: String?
    /// Seconds the client should wait before sending again (429 and 503).
    public var retryAfter: Int?

    public init(
        status: Int, code: String, message: String, row: Int? = nil, field: String? = nil, retryAfter: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.row = row
        self.field = field
        self.retryAfter = retryAfter
    }

    public static func badRequest(_ code: String, _ message: String, row: Int? = nil, field: String? = nil) -> APIError
    {
        APIError(status: 400, code: code, message: message, row: row, field: field)
    }

    /// A 401 that names the setting holding the expected token.
    public static func unauthorized(tokenSetting: String) -> APIError {
        APIError(
            status: 401, code: "unauthorized",
            message: "missing or wrong bearer token (Authorization: Bearer <\(tokenSetting)>)")
    }

    public var json: String {
        var bytes = Array(#"{"error":"#.utf8)
        JSONString.append(message, to: &bytes)
        bytes += Array(#","code":"#.utf8)
        JSONString.append(code, to: &bytes)
        if let row { bytes += Array(#","row":\#(row)"#.utf8) }
        if let field {
            bytes += Array(#","field":"#.utf8)
            JSONString.append(field, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The answer: this status, the JSON body, `Retry-After` when set, and `WWW-Authenticate`
    /// on a 401 (RFC 6750).
    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(
            status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

/// Refuses, with a 401 in APIError's shape, every request that lacks `Authorization: Bearer
/// <token>`; with no token configured it lets everything through. `onRefused` lets the service
/// count the refusal (it never reaches the route).
public struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let token: BearerToken?
    private let tokenSetting: String
    private let onRefused: @Sendable (Request) -> Void

    /// `tokenSetting` names where the token is configured, for the refusal's message.
    public init(token: String?, tokenSetting: String, onRefused: @escaping @Sendable (Request) -> Void = { _ in }) {
        self.token = token.map(BearerToken.init)
        self.tokenSetting = tokenSetting
        self.onRefused = onRefused
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token, !token.accepts(authorization: request.headers[.authorization]) else {
            return try await next(request, context)
        }
        onRefused(request)
        return APIError.unauthorized(tokenSetting: tokenSetting).response
    }
}
