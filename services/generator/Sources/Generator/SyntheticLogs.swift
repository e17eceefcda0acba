// Synthetic log lines: routine and critical templates across kernels, databases, HTTP, auth,
// Kubernetes and message brokers, with values varied by a seeded random source. Pure.
import Models

/// A log line before it becomes an event, with what the generator knows about it.
struct LogLine: Sendable, Equatable {
    enum Label: Sendable, Equatable {
        case routine, critical
        /// Replayed raw lines: nobody said.
        case unlabeled
    }

    var source: String
    var message: String
    var level: String?
    var label: Label
}

struct SyntheticLogs: Sendable {
    /// Fraction of lines that are critical.
    let criticalRate: Double
    private var random: RandomSource

    init(criticalRate: Double, seed: UInt64) {
        self.criticalRate = criticalRate
        random = RandomSource(seed: seed, stream: 2)
    }

    mutating func next() -> LogLine {
        let critical = random.chance(criticalRate)
        let templates = critical ? Self.critical : Self.routine
        let template = templates[random.nextInt(below: templates.count)]
        var line = template(&random)
        line.label = critical ? .critical : .routine
        return line
    }

    private typealias Template = @Sendable (inout RandomSource) -> LogLine

    // Lines an operator reads past: they should score low.
    private static let routine: [Template] = [
        { r in
            line(
                "node-\(r.nextInt(in: 1...8))",
                """
                e1000e 0000:00:1f.6 eth\(r.nextInt(below: 2)): NIC Link is Up 1000 Mbps Full Duplex, Flow \
                Control: Rx/Tx
                """
            )
        },
        { r in
            line(
                "node-\(r.nextInt(in: 1...8))",
                "systemd[1]: Started Daily rotation of log files (logrotate.service) in \(r.nextInt(in: 40...900))ms.")
        },
        { r in
            line(
                "db-\(r.nextInt(in: 1...3))",
                """
                checkpoint complete: wrote \(r.nextInt(in: 10...5000)) buffers \
                (\(r.nextInt(in: 0...30)).\(r.nextInt(below: 10))%); sync files=\(r.nextInt(in: 1...90)), \
                total=\(r.nextInt(in: 1...40)).\(r.nextInt(in: 100...999)) s
                """,
                level: "LOG")
        },
        { r in
            line(
                "db-\(r.nextInt(in: 1...3))",
                """
                automatic analyze of table \"fleet.public.readings_\(r.nextInt(in: 1...12))\": cpu: user: \
                0.\(r.nextInt(in: 10...99)) s, elapsed: \(r.nextInt(in: 1...9)).\(r.nextInt(in: 10...99)) s
                """,
                level: "LOG")
        },
        { r in
            line(
                "web-\(r.nextInt(in: 1...4))",
                """
                10.20.\(r.nextInt(below: 256)).\(r.nextInt(below: 256)) \"POST /v1/readings HTTP/1.1\" 202 \
                \(r.nextInt(in: 40...400)) rt=0.0\(r.nextInt(in: 10...99)) \
                ua=\"edge-agent/2.\(r.nextInt(below: 9))\"
                """,
                level: "INFO")
        },
        { r in
            line(
                "web-\(r.nextInt(in: 1...4))",
                """
                10.20.\(r.nextInt(below: 256)).\(r.nextInt(below: 256)) \"GET \
                /dashboards/fleet?range=\(r.nextInt(in: 1...24))h HTTP/2.0\" 200 \(r.nextInt(in: 2000...90000)) \
                rt=0.\(r.nextInt(in: 100...900))
                """,
                level: "INFO")
        },
        { r in
            line(
                "bastion-\(r.nextInt(in: 1...2))",
                """
                sshd[\(r.nextInt(in: 1000...65000))]: Accepted publickey for deploy from \
                10.0.\(r.nextInt(below: 256)).\(r.nextInt(below: 256)) port \(r.nextInt(in: 30000...65000)) ssh2: \
                ED25519
                """
            )
        },
        { r in
            line(
                "k8s-node-\(r.nextInt(in: 1...6))",
                """
                Successfully pulled image \
                \"registry.local/alertron/scorer:1.\(r.nextInt(below: 9)).\(r.nextInt(below: 20))\" in \
                \(r.nextInt(in: 1...9)).\(r.nextInt(in: 100...999))s
                """,
                level: "Normal")
        },
        { r in
            line(
                "k8s-node-\(r.nextInt(in: 1...6))",
                "Started container scorer in pod scorer-\(r.nextInt(in: 100...999))-\(r.nextInt(in: 10000...99999))",
                level: "Normal")
        },
        { r in
            line(
                "kafka-\(r.nextInt(in: 1...3))",
                """
                [LocalLog partition=readings-\(r.nextInt(below: 6)), dir=/var/lib/kafka/data] Rolled new log \
                segment at offset \(r.nextInt(in: 10000...9_000_000)) in \(r.nextInt(in: 1...20)) ms.
                """,
                level: "INFO")
        },
    ]

    // Lines somebody must act on now.
    private static let critical: [Template] = [
        { r in
            line(
                "node-\(r.nextInt(in: 1...8))", "Kernel panic - not syncing: Fatal exception in interrupt",
                level: "EMERG")
        },
        { r in
            line(
                "node-\(r.nextInt(in: 1...8))",
                """
                blk_update_request: I/O error, dev sd\(["a", "b", "c"][r.nextInt(below: 3)]), sector \
                \(r.nextInt(in: 1000...90_000_000)) op 0x1:(WRITE) flags 0x800 phys_seg \(r.nextInt(in: 1...64)) \
                prio class 0
                """
            )
        },
        { r in
            line(
                "node-\(r.nextInt(in: 1...8))",
                """
                Out of memory: Killed process \(r.nextInt(in: 1000...60000)) (scorer) \
                total-vm:\(r.nextInt(in: 2_000_000...9_000_000))kB, \
                anon-rss:\(r.nextInt(in: 1_000_000...8_000_000))kB, oom_score_adj:0
                """
            )
        },
        { r in
            line(
                "db-\(r.nextInt(in: 1...3))",
                "could not write to file \"pg_wal/xlogtemp.\(r.nextInt(in: 100...99999))\": No space left on device",
                level: "FATAL")
        },
        { r in
            line(
                "db-\(r.nextInt(in: 1...3))",
                """
                replication slot \"replica_\(r.nextInt(in: 1...3))\" is inactive; WAL segments are being retained \
                and the disk is \(r.nextInt(in: 95...99))% full
                """,
                level: "ERROR")
        },
        { r in
            line(
                "web-\(r.nextInt(in: 1...4))",
                """
                upstream ingest-\(r.nextInt(in: 1...3)) failed health checks \(r.nextInt(in: 3...9)) times in a \
                row; no live upstreams while connecting to upstream
                """,
                level: "CRIT")
        },
        { r in
            line(
                "bastion-\(r.nextInt(in: 1...2))",
                """
                sshd[\(r.nextInt(in: 1000...65000))]: error: maximum authentication attempts exceeded for root \
                from 203.0.113.\(r.nextInt(below: 256)) port \(r.nextInt(in: 30000...65000)) ssh2 [preauth]
                """
            )
        },
        { r in
            line(
                "k8s-node-\(r.nextInt(in: 1...6))",
                """
                Back-off restarting failed container scorer in pod \
                scorer-\(r.nextInt(in: 100...999))-\(r.nextInt(in: 10000...99999)) (CrashLoopBackOff)
                """,
                level: "Warning")
        },
        { r in
            line(
                "k8s-node-\(r.nextInt(in: 1...6))", "Node k8s-node-\(r.nextInt(in: 1...6)) status is now: NodeNotReady",
                level: "Warning")
        },
        { r in
            line(
                "kafka-\(r.nextInt(in: 1...3))",
                "Shutdown broker because all log dirs in /var/lib/kafka/data have failed", level: "FATAL")
        },
    ]

    private static func line(_ source: String, _ message: String, level: String? = nil) -> LogLine {
        LogLine(source: source, message: message, level: level, label: .routine)
    }
}
