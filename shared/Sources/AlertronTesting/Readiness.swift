// What a service answers while a dependency it needs is down: alive, but not ready.
import Hummingbird
import HummingbirdTesting
import Testing

/// Expects `/healthz` to answer 200 and `/readyz` 503 with `failing` (a check's name, such as
/// `kafka`) among the failed checks.
public func expectAliveButNotReady(
    _ app: some ApplicationProtocol, failing check: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    try await app.test(.router) { client in
        try await client.execute(uri: "/healthz", method: .get) {
            #expect($0.status == .ok, sourceLocation: sourceLocation)
        }
        try await client.execute(uri: "/readyz", method: .get) { response in
            #expect(response.status == .serviceUnavailable, sourceLocation: sourceLocation)
            #expect(String(buffer: response.body).contains("\"\(check)\":"), sourceLocation: sourceLocation)
        }
    }
}
