// A batch of generated events, encoded once in the form its target sends (Kafka messages,
// or NDJSON request bodies for ingest), with a tally of what it holds. Pure.
import Events
import Kafka
import MQTT

/// Counts of events by label.
struct EventTally: Sendable, Equatable {
    private(set) var counts = [Int](repeating: 0, count: EventLabel.allCases.count)

    subscript(label: EventLabel) -> Int { counts[label.rawValue] }

    var total: Int { counts.reduce(0, +) }
    var readings: Int { EventLabel.allCases.filter { $0.kind == "reading" }.reduce(0) { $0 + self[$1] } }
    var logs: Int { total - readings }
    var anomalousReadings: Int { readings - self[.normalReading] }

    mutating func add(_ label: EventLabel, _ count: Int = 1) { counts[label.rawValue] += count }

    mutating func add(_ other: EventTally) {
        for index in counts.indices { counts[index] += other.counts[index] }
    }
}

/// One NDJSON request body: one event JSON object per line.
struct NDJSONBody: Sendable, Equatable {
    var bytes: [UInt8] = []
    var lines = 0

    var isEmpty: Bool { lines == 0 }

    mutating func append(line: [UInt8]) {
        bytes.append(contentsOf: line)
        bytes.append(UInt8(ascii: "\n"))
        lines += 1
    }

    /// The two halves of the body, by lines (for a request the server found too large).
    func split() -> (NDJSONBody, NDJSONBody) {
        let half = lines / 2
        var seen = 0
        var cut = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            seen += 1
            if seen == half {
                cut = index + 1
                break
            }
        }
        return (
            NDJSONBody(bytes: Array(bytes[..<cut]), lines: half),
            NDJSONBody(bytes: Array(bytes[cut...]), lines: lines - half)
        )
    }
}

package struct OutgoingBatch: Sendable {
    /// The Kafka target's messages (empty for ingest).
    var messages = KafkaProducerBatch()
    /// Ingest's request bodies (empty for Kafka): it takes readings and log lines at
    /// separate endpoints.
    var readings = NDJSONBody()
    var logs = NDJSONBody()
    /// The MQTT target's messages, one per event.
    var mqtt: [MQTTPublish] = []
    var tally = EventTally()

    package var count: Int { tally.total }
}

/// Appends events to batches in their target's form, through one reused JSON writer.
package struct BatchEncoder {
    package enum Format: Sendable, Equatable {
        /// Messages for this topic, keyed by device id or log source.
        case kafka(topic: String)
        case ndjson
        /// One QoS 1 message per event on `<prefix>/<device or source>/readings|logs`.
        case mqtt(prefix: String)
    }

    let format: Format
    private var writer = EventWriter(capacity: 512)

    package init(format: Format) { self.format = format }

    package func makeBatch(capacity: Int) -> OutgoingBatch {
        guard case .kafka = format else { return OutgoingBatch() }
        return OutgoingBatch(messages: KafkaProducerBatch(capacity: capacity))
    }

    package mutating func append(_ generated: GeneratedEvent, to batch: inout OutgoingBatch) {
        writer.reset()
        writer.write(generated.event)
        batch.tally.add(generated.label)
        switch format {
        case .kafka(let topic):
            batch.messages.append(topic: topic, key: generated.event.key, value: writer.bytes)
        case .ndjson:
            if case .reading = generated.event {
                batch.readings.append(line: writer.bytes)
            } else {
                batch.logs.append(line: writer.bytes)
            }
        case .mqtt(let prefix):
            let kind = if case .reading = generated.event { "readings" } else { "logs" }
            batch.mqtt.append(
                MQTTPublish(
                    topic: "\(prefix)/\(MQTTFleet.topicLevel(generated.event.key))/\(kind)", payload: writer.bytes))
        }
    }
}
