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
    }

    private var partitions: [KafkaTopicPartition: Partition] = [:]

    /// Messages read but not yet finished.
    private(set) var pendingCount = 0

    /// Records a message as read. Offsets arrive in increasing order per partition; an offset
    /// at or below the last one means the partition is being read again (a rebalance or
    /// restart moved it back), so what was pending there starts over.
    mutating func begin(_ position: KafkaPosition) {
        var partition = partitions[position.partition] ?? Partition()
        if let last = partition.pending.last, position.offset <= last {
            pendingCount -= partition.count
            partition = Partition()
        }
        partition.pending.append(position.offset)
        pendingCount += 1
        partitions[position.partition] = partition
    }

    /// Marks messages finished; returns, for each partition whose first pending message moved,
    /// the offset to store (the next one to read there).
    mutating func finish(_ positions: some Sequence<KafkaPosition>) -> [KafkaTopicPartition: Int64] {
        var touched: Set<KafkaTopicPartition> = []
        for position in positions {
            guard var partition = partitions[position.partition], partition.head < partition.pending.count else { continue }
            // Only offsets still pending count: a repeat, or one from before a re-read, is ignored.
            let window = partition.pending[partition.head...]
            guard position.offset >= window.first!, position.offset <= window.last!,
                  Self.contains(window, position.offset), partition.finished.insert(position.offset).inserted else { continue }
            partitions[position.partition] = partition
            touched.insert(position.partition)
        }
        var storable: [KafkaTopicPartition: Int64] = [:]
        for key in touched {
            guard var partition = partitions[key] else { continue }
            let before = partition.head
            while partition.head < partition.pending.count, partition.finished.remove(partition.pending[partition.head]) != nil {
                partition.head += 1
            }
            guard partition.head > before else { continue }
            pendingCount -= partition.head - before
            // Kafka's committed offset is the next message to read: the last finished + 1.
            storable[key] = partition.pending[partition.head - 1] + 1
            if partition.head == partition.pending.count {
                partition.pending.removeAll(keepingCapacity: true)
                partition.head = 0
            } else if partition.head > 4096, partition.head * 2 > partition.pending.count {
                partition.pending.removeFirst(partition.head)
                partition.head = 0
            }
            partitions[key] = partition
        }
        return storable
    }

    /// Forgets a partition (its offsets can no longer be stored by this member).
    mutating func forget(_ partition: KafkaTopicPartition) {
        guard let removed = partitions.removeValue(forKey: partition) else { return }
        pendingCount -= removed.count
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
