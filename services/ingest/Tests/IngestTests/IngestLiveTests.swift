// Ingest over real sockets on the development broker: what it accepted is exactly what an
// outside consumer reads, and a broker outage is a 503 that loses nothing it accepted.
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Testing
@testable import Ingest

@Suite(.serialized, .timeLimit(.minutes(2))) struct IngestLiveTests {
    @Test func everyAcceptedIDReachesTheTopicKeyedByDeviceOrSource() async throws {
        let broker = try testBroker()
        let app = try makeApp(kafka: broker.kafka)
        let rows = (0..<50).map {
            #"{"device_id": "edge-\#($0 % 7)", "temperature": \#(20 + Double($0) / 10), "pressure": 1010, "vibration": 0.02}"#
        }
        let accepted = try await app.test(.live) { client in
            let readings = try await client.post(
                "/v1/readings", rows.joined(separator: "\n"), contentType: "application/x-ndjson"
            ) { response in
                #expect(response.status == .accepted)
                return json(response)["ids"] as? [String] ?? []
            }
            let logs = try await client.post(
                "/v1/logs", #"[{"source": "db-1", "message": "a"}, {"source": "web-2", "message": "b"}]"#
            ) { response in
                #expect(response.status == .accepted)
                return json(response)["ids"] as? [String] ?? []
            }
            return readings + logs
        }
        let messages = try await broker.read(Topic.readings, count: 52)
        let events = messages.compactMap { $0.value.flatMap { try? EventCodec.decodeInbound(Array($0)) } }
        #expect(events.count == 52, "every message is a valid event")
        #expect(Set(events.map(\.id)) == Set(accepted) && accepted.count == 52)
        for (message, event) in zip(messages, events) {
            #expect(message.key.map { String(decoding: $0, as: UTF8.self) } == event.key)
        }
    }

    @Test func whileTheBrokerIsDownRequestsGet503AndAfterwardsNothingAcceptedIsMissing() async throws {
        let broker = try testBroker()
        var settings = IngestSettings()
        settings.ackTimeoutMilliseconds = 1_000
        let app = try makeApp(kafka: broker.kafka, settings: settings)
        let tally = Tally()
        try await app.test(.live) { client in
            let send: @Sendable (String) async throws -> Bool = { device in
                try await client.post(
                    "/v1/readings", #"{"device_id": "\#(device)", "temperature": 1, "pressure": 2, "vibration": 3}"#
                ) { response in
                    if response.status == .accepted {
                        tally.accept(json(response)["ids"] as? [String] ?? [])
                        return true
                    }
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] != nil)
                    tally.refuse()
                    return false
                }
            }
            #expect(try await send("before"))
            try broker.cluster.setBroker(1, up: false)
            for index in 0..<3 { _ = try await send("during-\(index)") }
            try broker.cluster.setBroker(1, up: true)
            try await eventually(30, "ingest to accept again") { try await send("after") }
        }
        let (accepted, refused) = (tally.accepted, tally.refused)
        #expect(refused > 0, "the outage must be visible as 503s")
        let messages = try await broker.read(Topic.readings, count: accepted.count, within: 30)
        let ids = Set(messages.compactMap { $0.value.flatMap { try? EventCodec.decodeInbound(Array($0)).id } })
        #expect(Set(accepted).isSubset(of: ids), "every id answered 202 is on the topic")
        print(
            """
            ingest broker outage: \(accepted.count) accepted, \(refused) refused with 503, \(messages.count) on \
            the topic
            """
        )
    }
}

/// What the requests of a test came to, from the client's side.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    private var refusals = 0
    func accept(_ new: [String]) { lock.withLock { ids += new } }
    func refuse() { lock.withLock { refusals += 1 } }
    var accepted: [String] { lock.withLock { ids } }
    var refused: Int { lock.withLock { refusals } }
}
