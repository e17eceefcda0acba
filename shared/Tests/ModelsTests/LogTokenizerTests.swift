// Masking and tokenisation of tricky log lines: what varies between lines of one template is masked.

import Models
import Testing

@Suite struct LogTokenizerTests {
    @Test func syslogLineMasksTimePidAddressAndPort() {
        let line = "Nov  9 12:01:01 dn228 sshd[2915]: Accepted publickey for root from 10.1.2.3 port 52144 ssh2"
        #expect(
            LogTokenizer.tokens(line) == [
                "nov", "<num>", "<ts>", "dn0", "sshd", "<num>", "accepted", "publickey", "for", "root", "from", "<ip>",
                "port", "<num>", "ssh0",
            ])
    }

    @Test func uuidsAndHexValuesAreMasked() {
        let line =
            "request 3f2a9c01-7b1e-4c2d-9a8b-0123456789ab failed at 0x7ffd4c3a with code 0xDEAD, commit 3f2a9c01b7de"
        #expect(
            LogTokenizer.tokens(line) == [
                "request", "<uuid>", "failed", "at", "<hex>", "with", "code", "<hex>", "commit", "<hex>",
            ])
    }

    @Test func pathsKeyValuesAndDevicesWithNumbers() {
        let line = "EXT4-fs (sda2): Remounting filesystem read-only path=/var/lib/postgresql/data uid=0"
        #expect(
            LogTokenizer.tokens(line) == [
                "ext0", "fs", "sda0", "remounting", "filesystem", "read", "only", "path", "<path>", "uid", "<num>",
            ])
    }

    @Test func timestampsInCommonShapes() {
        let line = "2026-11-21T07:04:50.123Z [2026-11-21 07:04:50,123] 2005-06-03-15.42.50.675872 2005.06.03 started"
        #expect(LogTokenizer.tokens(line) == ["<ts>", "<ts>", "<ts>", "<ts>", "<ts>", "started"])
    }

    @Test func numbersWithUnitsAndPercentages() {
        #expect(
            LogTokenizer.tokens("took 250ms, 4.5GB free (99%) after -3 retries; 1,024 rows") == [
                "took", "<num>", "<num>", "free", "<num>", "after", "<num>", "retries", "<num>", "rows",
            ])
    }

    @Test func ipv6MacAddressesAndURLs() {
        let line =
            "link up fe80::1ff:fe23:4567:890a mac 00:1b:44:11:3a:b7 broker 10.0.0.5:9092 see https://example.com/a?b=c"
        #expect(LogTokenizer.tokens(line) == ["link", "up", "<ip>", "mac", "<ip>", "broker", "<ip>", "see", "<url>"])
    }

    @Test func versionsAndIdentifiersKeepTheirShape() {
        #expect(
            LogTokenizer.tokens("kafka v2.28.1 on x86_64 eth0 R02-M1-N0-C:J12-U11") == [
                "kafka", "v0", "<num>", "<num>", "on", "x0_0", "eth0", "r0", "m0", "n0", "c", "j0", "u0",
            ])
    }

    @Test func onlyASCIILettersAreLowerCasedAndOtherBytesKept() {
        #expect(LogTokenizer.tokens("Température ÉLEVÉE: capteur 3") == ["température", "ÉlevÉe", "capteur", "<num>"])
    }

    @Test func linesOfOneTemplateLookAlike() {
        let first =
            "Out of memory: Killed process 4121 (java) total-vm:8123456kB, anon-rss:7340032kB at 2026-11-21T07:04:50Z"
        let second =
            "Out of memory: Killed process 77 (postgres) total-vm:912kB, anon-rss:800kB at 2025-01-02T23:59:59Z"
        let (a, b) = (LogTokenizer.tokens(first), LogTokenizer.tokens(second))
        #expect(a.count == b.count)
        // Only the process name differs.
        #expect(zip(a, b).filter { $0 != $1 }.map { "\($0)/\($1)" } == ["java/postgres"])
    }

    @Test func punctuationOnlyAndEmptyLinesHaveNoTokens() {
        #expect(LogTokenizer.tokens("").isEmpty)
        #expect(LogTokenizer.tokens("  --- ... ::: ()[]  ").isEmpty)
    }

    @Test func aHugeLineIsCutAtMaxTokens() {
        let line = Array(repeating: "word", count: 10_000).joined(separator: " ")
        #expect(LogTokenizer.tokens(line).count == LogTokenizer.maxTokens)
    }

    @Test func longWordsAreCut() {
        let word = String(repeating: "a", count: 500)
        #expect(LogTokenizer.tokens(word) == [String(repeating: "a", count: 64)])
    }
}
