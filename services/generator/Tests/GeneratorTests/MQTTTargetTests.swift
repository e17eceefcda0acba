// The MQTT target: the fleet publishes each event at QoS 1 on its device's topic through
// Debian's real mosquitto broker, in Alertron's JSON, and a subscriber receives every one.
import AlertronTesting
import Foundation
import MQTT
import Testing
@testable import Generator

@Suite(.ownThread, .timeLimit(.minutes(2))) struct MQTTTargetTests {
    @Test func everyEventIsAMessageOnItsDevicesOrSourcesTopic() async throws {
        let broker = try await Mosquitto()
        defer { broker.stop() }
        let subscriber = try await MQTTConnection.connect(try MQTTConfiguration(url: broker.url, clientID: "ingest"))
        try await subscriber.subscribe(["devices/#"])
        var settings = testSettings(count: 300, mode: .mixed)
        settings.target = .mqtt
        settings.mqtt.url = broker.url
        settings.batchSize = 50
        let generator = try RunningGenerator(settings: settings)
        var received: [MQTTPublish] = []
        for await message in subscriber.messages {
            received.append(message)
            if received.count == 300 { break }
        }
        try await subscriber.acknowledge(received)
        try await eventually(30, "the run to finish") { generator.hasFinished }
        _ = await generator.stop()
        await subscriber.close()

        let events = try received.map { message in
            (message, try #require(JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]))
        }
        #expect(Set(events.compactMap { $0.1["id"] as? String }) == Set((0..<300).map { "test-\($0)" }))
        for (message, event) in events {
            let kind = event["kind"] as? String
            let name = (kind == "reading" ? event["device_id"] : event["source"]) as? String ?? ""
            #expect(message.topic == "devices/\(MQTTFleet.topicLevel(name))/\(kind == "reading" ? "readings" : "logs")")
            #expect(message.qos == 1)
        }
        #expect(
            events.contains { $0.1["kind"] as? String == "log" }
                && events.contains { $0.1["kind"] as? String == "reading" })
        let summary = generator.worker.summary
        #expect(summary.delivered.total == 300 && summary.undelivered == 0)
    }

    @Test func wrongCredentialsStopTheRunWithAReason() async throws {
        let broker = try await Mosquitto(user: ("fleet", "right"))
        defer { broker.stop() }
        var settings = testSettings(count: 10)
        settings.target = .mqtt
        settings.mqtt.url = broker.url.replacingOccurrences(of: ":right@", with: ":wrong@")
        let generator = try RunningGenerator(settings: settings)
        guard case .failure(let error) = await generator.ended() else {
            Issue.record("the run went on with credentials the broker refuses")
            return
        }
        #expect("\(error)".contains("mqtt_refused") && "\(error)".contains("not authorized"), "\(error)")
        #expect(generator.worker.summary.delivered.total == 0)
    }

    @Test func topicLevelsHoldNoSeparatorOrWildcard() {
        #expect(MQTTFleet.topicLevel("site/a+b#c") == "site_a_b_c")
        #expect(MQTTFleet.topicLevel("") == "_")
    }
}
