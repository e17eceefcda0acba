// Plain values that cross the Kafka module's public surface: no pointers, no C types.

/// A topic and one of its partitions.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// Where the broker stored a produced message.
public struct KafkaDeliveryReport: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}

/// What a broker says about itself and its topics.
public struct KafkaClusterMetadata: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int
    }
    public var brokers: [Broker]
    /// Topic name to partition count, for topics the broker reported without error.
    public var topics: [String: Int]
}

/// A topic to create on a real broker.
public struct KafkaTopicSpecification: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    /// -1 lets the broker use its default replication factor.
    public var replicationFactor: Int
    public init(name: String, partitions: Int, replicationFactor: Int = -1) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }
}

/// Messages to produce together: one contiguous byte buffer for all keys and values, so that
/// building a batch costs a few growing arrays, not an allocation per message.
public struct KafkaProducerBatch: Sendable {
    /// Largest batch: a delivery token packs the message index into 20 bits.
    public static let maxCount = 1 << 20

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var topicIndex: Int
        @usableFromInline var keyStart: Int
        /// -1 for a message without a key.
        @usableFromInline var keyLength: Int
        @usableFromInline var valueStart: Int
        @usableFromInline var valueLength: Int
        /// -1: the partitioner picks from the key.
        @usableFromInline var partition: Int32

        @inlinable
        init(topicIndex: Int, keyStart: Int, keyLength: Int, valueStart: Int, valueLength: Int, partition: Int32) {
            self.topicIndex = topicIndex
            self.keyStart = keyStart
            self.keyLength = keyLength
            self.valueStart = valueStart
            self.valueLength = valueLength
            self.partition = partition
        }
    }

    // Inlinable so callers get `append` specialized for their collection types: on the hot
    // path a generic call per message costs more than the copy it makes.
    @usableFromInline private(set) var bytes: [UInt8] = []
    @usableFromInline private(set) var entries: [Entry] = []
    @usableFromInline private(set) var topics: [String] = []

    public init(capacity: Int = 0) {
        entries.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 256)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Adds a message; `key` decides the partition (same key, same partition, in order) unless
    /// `partition` names one (a changelog written beside the partition it describes).
    @inlinable
    public mutating func append(
        topic: String, key: (some Collection<UInt8>)?, value: some Collection<UInt8>, partition: Int32? = nil
    ) {
        precondition(entries.count < Self.maxCount, "a KafkaProducerBatch holds at most \(Self.maxCount) messages")
        let topicIndex = index(ofTopic: topic)
        let keyStart = bytes.count
        var keyLength = -1
        if let key {
            bytes.append(contentsOf: key)
            keyLength = bytes.count - keyStart
        }
        let valueStart = bytes.count
        bytes.append(contentsOf: value)
        entries.append(
            Entry(
                topicIndex: topicIndex, keyStart: keyStart, keyLength: keyLength,
                valueStart: valueStart, valueLength: bytes.count - valueStart, partition: partition ?? -1))
    }

    /// Adds a message with a string key.
    @inlinable
    public mutating func append(topic: String, key: String?, value: some Collection<UInt8>, partition: Int32? = nil) {
        append(topic: topic, key: key?.utf8, value: value, partition: partition)
    }

    /// Adds a tombstone: `key` with no value, which deletes the key from a compacted topic (in
    /// `partition` when it names one, else where the key's partition is).
    public mutating func appendTombstone(topic: String, key: some Collection<UInt8>, partition: Int32? = nil) {
        precondition(entries.count < Self.maxCount, "a KafkaProducerBatch holds at most \(Self.maxCount) messages")
        let topicIndex = index(ofTopic: topic)
        let keyStart = bytes.count
        bytes.append(contentsOf: key)
        entries.append(
            Entry(
                topicIndex: topicIndex, keyStart: keyStart, keyLength: bytes.count - keyStart,
                valueStart: bytes.count, valueLength: -1, partition: partition ?? -1))
    }

    public mutating func appendTombstone(topic: String, key: String) {
        appendTombstone(topic: topic, key: key.utf8)
    }

    /// Empties the batch, keeping its memory for the next one.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        topics.removeAll(keepingCapacity: true)
    }

    @inlinable
    mutating func index(ofTopic topic: String) -> Int {
        // A batch names a handful of topics, most often the same one as the last message.
        if let last = topics.last, last == topic { return topics.count - 1 }
        if let existing = topics.firstIndex(of: topic) { return existing }
        topics.append(topic)
        return topics.count - 1
    }

    func topic(ofEntry index: Int) -> String { topics[entries[index].topicIndex] }

    /// Message `index` as it will be sent: topic, key (nil when none) and value.
    public func message(at index: Int) -> (topic: String, key: [UInt8]?, value: [UInt8]) {
        let entry = entries[index]
        let key = entry.keyLength < 0 ? nil : Array(bytes[entry.keyStart..<entry.keyStart + entry.keyLength])
        return (
            topics[entry.topicIndex], key, Array(bytes[entry.valueStart..<entry.valueStart + max(0, entry.valueLength)])
        )
    }

    /// The partition message `index` names, or nil when its key decides.
    public func partition(at index: Int) -> Int32? {
        entries[index].partition >= 0 ? entries[index].partition : nil
    }
}

/// One consumed message. `key` and `value` are slices of the batch's shared storage.
public struct KafkaConsumerMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: ArraySlice<UInt8>?
    /// nil for a tombstone (a message with no value): a value, never a crash.
    public var value: ArraySlice<UInt8>?
    /// Broker or producer timestamp in milliseconds since the epoch, when known.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: ArraySlice<UInt8>?, value: ArraySlice<UInt8>?,
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    public var isTombstone: Bool { value == nil }
}

/// Messages handed over by one poll, in partition order.
public struct KafkaConsumerBatch: Sendable, RandomAccessCollection {
    public var messages: [KafkaConsumerMessage]
    public init(messages: [KafkaConsumerMessage]) { self.messages = messages }
    public var startIndex: Int { messages.startIndex }
    public var endIndex: Int { messages.endIndex }
    public subscript(position: Int) -> KafkaConsumerMessage { messages[position] }

    /// The offsets to store once every message of this batch is done: for each partition,
    /// the last offset + 1, because a committed offset names the next message to read.
    public var nextOffsets: [KafkaTopicPartition: Int64] {
        var next: [KafkaTopicPartition: Int64] = [:]
        for message in messages {
            let key = message.topicPartition
            next[key] = Swift.max(next[key] ?? Int64.min, message.offset + 1)
        }
        return next
    }
}
