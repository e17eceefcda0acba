// Which input offsets may be stored: per partition, every message read is pending until the
// Slack message covering it was accepted (or dead-lettered), and the stored offset is the
// first still-pending one. Messages finish out of order (one device's group can go out before
// another's); the stored offset never passes one that has not.
import Kafka

struct KafkaPosition: Sendable, Hashable {
    var partition: KafkaTopicPartition
    var offset: Int64
}

struct OffsetLedger: Sendable {
    private struct Partition {
        /// Offsets read, ascending; those before `head` are finished and storable.
        var pending: [Int64] = []
        var head = 0
        /// Finished offsets at or after `head`.
        var finished: Set<Int64> = []

        var count: Int { pending.count - head }

        /// Marks a pending offset finished; false for a repeat, or one that is not pending
        /// (from before the partition was read again).
        mutating func markFinished(_ offset: Int64) -> Bool {
            guard head < pending.count, offset >= pending[head], offset <= pending[pending.count - 1],
                Self.contains(pending[head...], offset)
            else { return false }
            return finished.insert(offset).inserted
        }

        /// Moves past the finished offsets at the front; returns how many it passed and the
        /// offset to store (Kafka's committed offset is the next one to read: last finished + 1).
        mutating func advance() -> (passed: Int, next: Int64?) {
            let before = head
            while head < pending.count, finished.remove(pending[head]) != nil { head += 1 }
            let passed = head - before
            guard passed > 0 else { return (0, nil) }
            let next = pending[head - 1] + 1
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 4096, head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
            return (passed, next)
        }

        private static func contains(_ sorted: ArraySlice<Int64>, _ value: Int64) -> Bool {
            var low = sorted.startIndex
            var high = sorted.endIndex
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle] < value { low = middle + 1 } else { high = middle }
            }
            return low < sorted.endIndex && sorted[low] == value
        }
    }

    // Partitions are changed in place (`partitions[key, default:]`): copying one out and back
    // would copy its arrays on every message.
    private var partitions: [KafkaTopicPartition: Partition] = [:]

    /// Messages read but not yet storable.
    private(set) var pendingCount = 0

    /// Records a message as read. Offsets arrive in increasing order per partition; an offset
    /// at or below the last one means the partition is being read again (a rebalance or
    /// restart moved it back), so what was pending there starts over.
    mutating func begin(_ position: KafkaPosition) {
        let restarted: Int? = partitions[position.partition, default: Partition()].pending.last.flatMap { last in
            position.offset <= last ? partitions[position.partition]!.count : nil
        }
        if let restarted {
            pendingCount -= restarted
            partitions[position.partition] = Partition()
        }
        partitions[position.partition, default: Partition()].pending.append(position.offset)
        pendingCount += 1
    }

    /// Marks messages finished; returns, for each partition whose first pending message moved,
    /// the offset to store.
    mutating func finish(_ positions: some Sequence<KafkaPosition>) -> [KafkaTopicPartition: Int64] {
        var touched: Set<KafkaTopicPartition> = []
        for position in positions {
            guard partitions[position.partition] != nil else { continue }
            if partitions[position.partition]!.markFinished(position.offset) { touched.insert(position.partition) }
        }
        var storable: [KafkaTopicPartition: Int64] = [:]
        for key in touched {
            let (passed, next) = partitions[key]!.advance()
            pendingCount -= passed
            if let next { storable[key] = next }
        }
        return storable
    }
}
