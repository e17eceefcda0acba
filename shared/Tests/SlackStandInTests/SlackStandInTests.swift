// The Slack stand-in keeps Slack's contract: what it accepts, how it refuses, and how a
// script makes it fail, so tests that rely on it test against Slack's behaviour.
import Foundation
import Hummingbird
import HummingbirdTesting
import SlackStandIn
import Testing

@Suite struct SlackStandInTests {
    private func app(_ standIn: SlackStandIn) -> some ApplicationProtocol {
        let router = Router()
        standIn.register(on: router)
        return Application(router: router)
    }

    private func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    @Test func aPostedMessageGetsATsThatAnUpdateMustName() async throws {
        let standIn = SlackStandIn(configuration: .init(token: "xoxb-1"))
        try await app(standIn).test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer xoxb-1"]
            var ts = ""
            try await client.execute(
                uri: "/api/chat.postMessage", method: .post, headers: bearer,
                body: json(["channel": "#a", "text": "hi"])
            ) { response in
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(body?["ok"] as? Bool == true)
                ts = body?["ts"] as? String ?? ""
            }
            #expect(!ts.isEmpty)
            try await client.execute(
                uri: "/api/chat.update", method: .post, headers: bearer,
                body: json(["channel": "#a", "ts": ts, "text": "resolved"])
            ) { response in
                #expect(String(buffer: response.body).contains(#""ok":true"#))
            }
            try await client.execute(
                uri: "/api/chat.update", method: .post, headers: bearer,
                body: json(["channel": "#a", "ts": "1.2", "text": "x"])
            ) { response in
                #expect(String(buffer: response.body) == #"{"ok":false,"error":"message_not_found"}"#)
            }
            try await client.execute(
                uri: "/api/chat.postMessage", method: .post, body: json(["channel": "#a", "text": "hi"])
            ) { response in
                #expect(response.status == .ok, "the Web API answers errors with 200 and ok:false")
                #expect(String(buffer: response.body) == #"{"ok":false,"error":"not_authed"}"#)
            }
        }
        #expect(standIn.requests.map(\.error) == [nil, nil, "message_not_found", "not_authed"])
        #expect(standIn.accepted.count == 2)
    }

    @Test func scriptedAnswersComeInOrderThenNormalServiceResumes() async throws {
        let standIn = SlackStandIn()
        standIn.script([
            .init(status: 500), .init(status: 429, retryAfter: 7), .init(error: "channel_not_found", times: 2),
        ])
        try await app(standIn).test(.router) { client in
            var answers: [(Int, String?, String)] = []
            for _ in 0..<5 {
                try await client.execute(uri: "/services/T0/B0/X", method: .post, body: json(["text": "hi"])) {
                    response in
                    answers.append((response.status.code, response.headers[.retryAfter], String(buffer: response.body)))
                }
            }
            #expect(answers.map(\.0) == [500, 429, 404, 404, 200])
            #expect(answers[1].1 == "7")
            #expect(answers[2].2 == "channel_not_found")
            #expect(answers[4].2 == "ok")
        }
    }

    @Test func contentBeyondSlacksLimitsIsRefusedLikeSlackDoes() async throws {
        let standIn = SlackStandIn()
        let header: [String: Any] = [
            "type": "header", "text": ["type": "plain_text", "text": String(repeating: "x", count: 151)],
        ]
        let fields: [String: Any] = [
            "type": "section", "fields": (0..<11).map { ["type": "mrkdwn", "text": "f\($0)"] },
        ]
        let cases: [(ByteBuffer, String)] = [
            (json(["text": ""]), "no_text"),
            (json(["text": "t", "blocks": [header]]), "invalid_blocks"),
            (json(["text": "t", "blocks": [fields]]), "invalid_blocks"),
            (json(["text": String(repeating: "y", count: 40_001)]), "msg_too_long"),
        ]
        try await app(standIn).test(.router) { client in
            for (body, expected) in cases {
                try await client.execute(uri: "/services/T0/B0/X", method: .post, body: body) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body) == expected)
                }
            }
        }
        #expect(standIn.accepted.isEmpty)
    }
}
