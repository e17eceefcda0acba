// Every service refuses a request in one JSON shape, with the headers its status calls for.
import Foundation
import Hummingbird
import Testing
@testable import Telemetry

@Suite struct APIErrorTests {
    @Test func theBodyNamesTheErrorCodeRowAndFieldWithTheTextEscaped() throws {
        let error = APIError.badRequest("wrong_type", "\"temperature\" must be a number\n(got a string)", row: 3, field: "temperature")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(error.json.utf8)) as? [String: Any])
        #expect(object["error"] as? String == "\"temperature\" must be a number\n(got a string)")
        #expect(object["code"] as? String == "wrong_type")
        #expect(object["row"] as? Int == 3)
        #expect(object["field"] as? String == "temperature")
        #expect(error.response.status == .badRequest)
        #expect(error.response.headers[.contentType] == "application/json")
    }

    @Test func aRefusedTokenIsA401ThatAsksForABearerTokenAndNamesItsSetting() {
        let token = BearerToken("s3cret")
        #expect(throws: Never.self) { try token.authorize("Bearer s3cret", tokenSetting: "INGEST_TOKEN") }
        do {
            try token.authorize("Bearer guess", tokenSetting: "INGEST_TOKEN")
            Issue.record("a wrong token was accepted")
        } catch {
            #expect(error.status == 401)
            #expect(error.message.contains("INGEST_TOKEN"))
            #expect(!error.json.contains("s3cret"))
            #expect(error.response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func aRetryAfterIsSentAsTheHeader() {
        let busy = APIError(status: 503, code: "kafka_unavailable", message: "try again", retryAfter: 5)
        #expect(busy.response.headers[.retryAfter] == "5")
        #expect(APIError(status: 413, code: "body_too_large", message: "smaller").response.headers[.retryAfter] == nil)
    }
}
