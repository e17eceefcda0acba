// Every service refuses a request in one JSON shape, with the headers its status calls for.
import Foundation
import AlertronTesting
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct APIErrorTests {
    @Test func theBodyNamesTheErrorCodeRowAndFieldWithTheTextEscaped() throws {
        let error = APIError.badRequest(
            "wrong_type", "\"temperature\" must be a number\n(got a string)", row: 3, field: "temperature")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(error.json.utf8)) as? [String: Any])
        #expect(object["error"] as? String == "\"temperature\" must be a number\n(got a string)")
        #expect(object["code"] as? String == "wrong_type")
        #expect(object["row"] as? Int == 3)
        #expect(object["field"] as? String == "temperature")
        #expect(error.response.status == .badRequest)
        #expect(error.response.headers[.contentType] == "application/json")
    }

    @Test func theTokenMiddlewareRefusesWithA401ThatAsksForABearerTokenAndNamesItsSetting() async throws {
        let refused = Mutexed(0)
        let router = Router()
        router.add(
            middleware: BearerTokenMiddleware(token: "s3cret", tokenSetting: "INGEST_TOKEN") { _ in
                refused.withLock { $0 += 1 }
            })
        router.get("/open") { _, _ in "in" }
        let open = Router()
        open.add(middleware: BearerTokenMiddleware(token: nil, tokenSetting: "INGEST_TOKEN"))
        open.get("/open") { _, _ in "in" }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/open", method: .get, headers: [.authorization: "Bearer s3cret"]) {
                #expect($0.status == .ok)
            }
            for header in ["Bearer guess", "Bearer s3cret2", "s3cret", nil] as [String?] {
                let headers: HTTPFields = header.map { [.authorization: $0] } ?? [:]
                try await client.execute(uri: "/open", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    let body = String(buffer: response.body)
                    #expect(
                        body.contains("INGEST_TOKEN") && body.contains(#""code":"unauthorized""#)
                            && !body.contains("s3cret"))
                }
            }
        }
        #expect(refused.withLock { $0 } == 4)
        try await Application(router: open).test(.router) { client in
            try await client.execute(uri: "/open", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func aRetryAfterIsSentAsTheHeader() {
        let busy = APIError(status: 503, code: "kafka_unavailable", message: "try again", retryAfter: 5)
        #expect(busy.response.headers[.retryAfter] == "5")
        #expect(APIError(status: 413, code: "body_too_large", message: "smaller").response.headers[.retryAfter] == nil)
    }
}
