// The Slack stand-in keeps Slack's contract: what it accepts, how it refuses, and how a
// script makes it fail, so tests that rely on it test against Slack's behaviour.
import Foundation
import Hummingbird
import HummingbirdTesting
import SlackSignature
import SlackStandIn
import Synchronization
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

    /// The Web API's JSON answer to `method` with `body`, sent with `token`.
    private func call(
        _ client: some TestClientProtocol, _ method: String, _ body: [String: Any], token: String? = "xoxb-1"
    ) async throws -> [String: Any] {
        let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
        return try await client.execute(uri: "/api/\(method)", method: .post, headers: headers, body: json(body)) {
            response in
            #expect(response.status == .ok, "the Web API answers errors with 200 and ok:false")
            return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
        }
    }

    @Test func aPostedMessageGetsTheChannelsIDAndATsThatAnUpdateMustNameExactly() async throws {
        let standIn = SlackStandIn(configuration: .init(token: "xoxb-1", channels: ["#alerts"]))
        try await app(standIn).test(.router) { client in
            let posted = try await call(client, "chat.postMessage", ["channel": "#alerts", "text": "hi"])
            #expect(posted["ok"] as? Bool == true)
            let id = try #require(posted["channel"] as? String)
            let ts = try #require(posted["ts"] as? String)
            #expect(id == standIn.channelID("#alerts") && id.hasPrefix("C") && id != "#alerts")
            // chat.postMessage takes the name without '#', or the ID, too; a channel that does not exist it refuses.
            #expect(
                try await call(client, "chat.postMessage", ["channel": "alerts", "text": "a"])["channel"] as? String
                    == id)
            #expect(
                try await call(client, "chat.postMessage", ["channel": id, "text": "b"])["channel"] as? String == id)
            #expect(
                try await call(client, "chat.postMessage", ["channel": "#nowhere", "text": "c"])["error"] as? String
                    == "channel_not_found")
            #expect(
                try await call(client, "chat.postMessage", ["channel": "C99999999", "text": "d"])["error"] as? String
                    == "channel_not_found")

            // chat.update: only the ID and the exact ts (Slack answers a name with channel_not_found).
            #expect(
                try await call(client, "chat.update", ["channel": "#alerts", "ts": ts, "text": "x"])["error"] as? String
                    == "channel_not_found")
            #expect(
                try await call(client, "chat.update", ["channel": id, "ts": "1.2", "text": "x"])["error"] as? String
                    == "message_not_found")
            #expect(
                try await call(client, "chat.update", ["channel": id, "ts": ts, "text": "resolved"])["ok"] as? Bool
                    == true)

            // A reply in a thread: the same rule.
            #expect(
                try await call(client, "chat.postMessage", ["channel": "#alerts", "thread_ts": ts, "text": "r"])[
                    "error"] as? String == "channel_not_found")
            #expect(
                try await call(client, "chat.postMessage", ["channel": id, "thread_ts": "1.2", "text": "r"])["error"]
                    as? String == "message_not_found")
            #expect(
                try await call(client, "chat.postMessage", ["channel": id, "thread_ts": ts, "text": "r"])["ok"] as? Bool
                    == true)

            // Tokens: none, or the wrong one.
            #expect(
                try await call(client, "chat.postMessage", ["channel": id, "text": "e"], token: nil)["error"] as? String
                    == "not_authed")
            #expect(
                try await call(client, "chat.postMessage", ["channel": id, "text": "e"], token: "xoxb-2")["error"]
                    as? String == "invalid_auth")
        }
        #expect(
            standIn.accepted.map(\.method) == [
                "chat.postMessage", "chat.postMessage", "chat.postMessage", "chat.update", "chat.postMessage",
            ])
        #expect(standIn.accepted.allSatisfy { $0.channelID == standIn.channelID("alerts") })
    }

    @Test func aWebhooksMessageCannotBeUpdatedByTheApp() async throws {
        let standIn = SlackStandIn(configuration: .init(token: "xoxb-1"))
        try await app(standIn).test(.router) { client in
            try await client.execute(uri: "/services/T0/B0/X", method: .post, body: json(["text": "from a webhook"])) {
                response in
                #expect(response.status == .ok && String(buffer: response.body) == "ok")
            }
            try await client.execute(uri: "/services/T0/B0/X", method: .post, body: ByteBuffer(string: "{not json")) {
                response in
                #expect(response.status == .badRequest && String(buffer: response.body) == "invalid_payload")
            }
            let posted = try #require(standIn.accepted.first)
            let answer = try await call(
                client, "chat.update",
                ["channel": try #require(posted.channelID), "ts": try #require(posted.ts), "text": "x"])
            #expect(answer["error"] as? String == "cant_update_message")
        }
    }

    private static func button(_ id: String, value: String = "v", label: String = "Acknowledge") -> [String: Any] {
        ["type": "button", "text": ["type": "plain_text", "text": label], "action_id": id, "value": value]
    }

    @Test func buttonsAreCheckedAsSlackChecksThem() async throws {
        let standIn = SlackStandIn()
        let button = Self.button
        let messages: [([[String: Any]], String?)] = [
            (
                [
                    [
                        "type": "actions",
                        "elements": [button("ack", "v", "Acknowledge"), button("silence", "v", "Silence")],
                    ]
                ], nil
            ),
            ([["type": "actions", "elements": [button("ack", "v", "A"), button("ack", "v", "B")]]], "invalid_blocks"),
            (
                [["type": "actions", "elements": [button("ack", String(repeating: "v", count: 2001), "A")]]],
                "invalid_blocks"
            ),
            (
                [["type": "actions", "elements": [button("ack", "v", String(repeating: "l", count: 76))]]],
                "invalid_blocks"
            ),
            ([["type": "actions", "elements": (0..<26).map { button("b\($0)", "v", "B") }]], "invalid_blocks"),
            // action_id is unique across the message's blocks, not only within one.
            (
                [
                    ["type": "actions", "elements": [button("ack", "v", "A")]],
                    ["type": "actions", "elements": [button("ack", "v", "A")]],
                ],
                "invalid_blocks"
            ),
        ]
        let cases = messages.map { (json(["channel": "#alerts", "text": "t", "blocks": $0.0]), $0.1) }
        try await app(standIn).test(.router) { client in
            for (index, (body, expected)) in cases.enumerated() {
                try await client.execute(uri: "/api/chat.postMessage", method: .post, body: body) { response in
                    let answer = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(answer?["error"] as? String == expected, "case \(index)")
                }
            }
        }
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

    @Test func signaturesMatchSlacksPublishedExampleAndRefuseForgedOrStaleRequests() throws {
        // The example from Slack's "Verifying requests from Slack" guide.
        let body = Array(
            ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
                + "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
                + "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F"
                + "96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").utf8)
        let secret = "8f742231b10e8888abcd99yyyzzz85a5"
        let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        #expect(SlackSignature.sign(body: body, timestamp: 1_531_420_618, secret: secret) == signature)
        try SlackSignature.verify(
            body: body, timestamp: "1531420618", signature: signature, secret: secret, now: 1_531_420_700)
        func refusal(
            _ body: [UInt8], _ timestamp: String?, _ signature: String?, now: Int64 = 1_531_420_700
        ) -> SlackSignature.Refusal? {
            do throws(SlackSignature.Refusal) {
                try SlackSignature.verify(
                    body: body, timestamp: timestamp, signature: signature, secret: secret, now: now)
                return nil
            } catch { return error }
        }
        #expect(refusal(body, nil, signature) == .unsigned)
        #expect(refusal(body, "1531420618", nil) == .unsigned)
        #expect(refusal(body, "1531420618", "a2114d57") == .unsigned)
        #expect(refusal(body, "1531420618", signature, now: 1_531_420_618 + 301) == .stale)
        #expect(refusal(body, "1531420618", signature, now: 1_531_420_618 - 301) == .stale)
        #expect(refusal(body + [0x20], "1531420618", signature) == .forged)
        #expect(refusal(body, "1531420619", signature) == .forged)
        #expect(refusal(body, "1531420618", "v0=zz") == .forged)
        #expect(refusal(body, "1531420618", String(signature.dropLast()) + "0") == .forged)
    }

    @Test func aClickPressesAButtonTheMessageReallyHasAndIsSignedAsSlackSignsIt() async throws {
        let received = Mutex<[(headers: HTTPFields, body: [UInt8])]>([])
        let router = Router()
        router.post("/slack/interactions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append((request.headers, Array(buffer: body))) }
            return Response(status: .ok)
        }
        let (started, port) = AsyncStream.makeStream(of: Int.self)
        let receiver = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.yield($0.localAddress?.port ?? 0) })
        var configuration = SlackStandIn.Configuration(token: "xoxb-1")
        configuration.signingSecret = "s3cret"
        let standIn = SlackStandIn(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await receiver.run() }
            var ports = started.makeAsyncIterator()
            let receiverPort = try #require(await ports.next())
            standIn.interactionsURL = URL(string: "http://127.0.0.1:\(receiverPort)/slack/interactions")
            try await app(standIn).test(.router) { client in
                let actions: [String: Any] = [
                    "type": "actions",
                    "elements": [
                        [
                            "type": "button", "action_id": "ack", "value": "device:d1/r1",
                            "text": ["type": "plain_text", "text": "Acknowledge"],
                        ]
                    ],
                ]
                let posted = try await call(
                    client, "chat.postMessage", ["channel": "#alerts", "text": "t", "blocks": [actions]])
                let ts = try #require(posted["ts"] as? String)
                for signing in SlackStandIn.Signing.allCases {
                    #expect(
                        try await standIn.click(action: "ack", value: "device:d1/r1", signing: signing).status == 200)
                }
                await #expect(throws: SlackStandIn.ClickError.self) {
                    try await standIn.click(action: "resolve", value: "device:d1/r1")
                }
                await #expect(throws: SlackStandIn.ClickError.self) {
                    try await standIn.click(action: "ack", value: "device:d2/r1")
                }
                let requests = received.withLock { $0 }
                #expect(requests.count == SlackStandIn.Signing.allCases.count)
                let now = Int64(Date().timeIntervalSince1970)
                for (request, signing) in zip(requests, SlackStandIn.Signing.allCases) {
                    var refusal: SlackSignature.Refusal?
                    do throws(SlackSignature.Refusal) {
                        try SlackSignature.verify(
                            body: request.body, timestamp: request.headers[.init("X-Slack-Request-Timestamp")!],
                            signature: request.headers[.init("X-Slack-Signature")!], secret: "s3cret", now: now)
                    } catch { refusal = error }
                    let expected: [SlackStandIn.Signing: SlackSignature.Refusal?] = [
                        .valid: nil, .unsigned: .unsigned, .forged: .forged, .stale: .stale,
                    ]
                    #expect(refusal == expected[signing]!, "\(signing)")
                }
                // The payload Slack sends: form-encoded JSON naming the button, the message and who clicked.
                let form = String(decoding: try #require(requests.first).body, as: UTF8.self)
                #expect(form.hasPrefix("payload="))
                let json = try #require(String(form.dropFirst("payload=".count)).removingPercentEncoding)
                let payload = try #require(
                    try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                #expect(payload["type"] as? String == "block_actions")
                let action = try #require((payload["actions"] as? [[String: Any]])?.first)
                #expect(action["action_id"] as? String == "ack" && action["value"] as? String == "device:d1/r1")
                let container = try #require(payload["container"] as? [String: Any])
                #expect(container["message_ts"] as? String == ts)
                #expect(container["channel_id"] as? String == standIn.channelID("#alerts"))
                #expect((payload["user"] as? [String: Any])?["id"] as? String == SlackStandIn.defaultUser.id)
                #expect(((payload["message"] as? [String: Any])?["blocks"] as? [Any])?.count == 1)
            }
            group.cancelAll()
        }
    }

    @Test func anEphemeralMessageNeedsAUserAndIsNotKeptToUpdate() async throws {
        let standIn = SlackStandIn(configuration: .init(token: "xoxb-1"))
        try await app(standIn).test(.router) { client in
            let id = standIn.channelID("#alerts")
            #expect(
                try await call(client, "chat.postEphemeral", ["channel": id, "text": "t"])["error"] as? String
                    == "user_not_in_channel")
            let answer = try await call(client, "chat.postEphemeral", ["channel": id, "user": "U1", "text": "t"])
            #expect(answer["ok"] as? Bool == true)
            let ts = try #require(answer["message_ts"] as? String)
            #expect(
                try await call(client, "chat.update", ["channel": id, "ts": ts, "text": "x"])["error"] as? String
                    == "message_not_found")
        }
    }
}
