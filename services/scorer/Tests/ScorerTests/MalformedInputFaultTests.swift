// Fault: thousands of malformed messages on readings, of every kind that can go wrong (random
// bytes, truncated or deeply nested JSON, invalid UTF-8, wrong types, missing fields, bad values,
// NaN, unknown schemas and kinds, oversized fields and payloads, empty messages). Each one is
// dead-lettered exactly once, with a reason code its kind allows, its reason, its source
// position and its payload; the scorer counts them, stays ready, and scores what comes next.
import Events
import Foundation
import MetricsTestKit
import Telemetry
import Testing
@testable import Scorer

@Suite(.serialized, .timeLimit(.minutes(3))) struct MalformedInputFaultTests {
    @Test func everyMalformedMessageIsDeadLetteredOnceWithItsReasonAndTheScorerCarriesOn() async throws {
        let count = Int(ProcessInfo.processInfo.environment["MALFORMED_COUNT"] ?? "") ?? 5_000
        let messages = MalformedMessages.generate(count: count, seed: 8)
        let byKey = Dictionary(uniqueKeysWithValues: messages.map { ($0.key, $0) })
        let mesh = try TestMesh()
        let metrics = TestMetrics()
        let scorer = try RunningScorer(mesh: mesh, modelPath: try writeModel(), metrics: metrics)
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            try await mesh.send(
                messages[chunk..<min(chunk + 500, messages.count)].map { ($0.key, $0.value) }, to: Topic.readings)
        }
        let valid = reading("edge-after-malformed")
        try await mesh.send([.reading(valid)])

        let letters = try await mesh.read(Topic.deadLetters(of: Topic.readings), count: count, settle: 1, within: 120)
            .compactMap(\.deadLetter)
        var seen: [String: Int] = [:]
        var problems: [String: Int] = [:]
        var positions = Set<String>()
        var byReason: [String: Int] = [:]
        for letter in letters {
            let key = String(decoding: letter.key ?? [], as: UTF8.self)
            guard let message = byKey[key] else {
                problems["a dead letter of a message never sent", default: 0] += 1
                continue
            }
            seen[key, default: 0] += 1
            byReason[letter.reasonCode, default: 0] += 1
            if !message.category.allowed.contains(letter.reasonCode) {
                problems["\(message.category.rawValue) dead-lettered as \(letter.reasonCode)", default: 0] += 1
            }
            if letter.reason.isEmpty { problems["empty reason", default: 0] += 1 }
            if letter.rejectedBy != "scorer" { problems["rejected_by \(letter.rejectedBy)", default: 0] += 1 }
            if letter.sourceTopic != Topic.readings { problems["source topic \(letter.sourceTopic)", default: 0] += 1 }
            positions.insert("\(letter.sourcePartition)/\(letter.sourceOffset)")
            if letter.payload != Array(message.value.prefix(BatchScorer.deadLetterPayloadLimit)) {
                problems["payload differs from the message sent", default: 0] += 1
            }
            if message.value.count > BatchScorer.deadLetterPayloadLimit, !letter.reason.contains("truncated") {
                problems["a truncated payload not said in the reason", default: 0] += 1
            }
        }
        print(
            "malformed: \(count) sent, \(letters.count) dead letters; by reason: "
                + byReason.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(problems.isEmpty, "\(problems)")
        #expect(seen.count == count, "\(count - seen.count) messages were not dead-lettered")
        #expect(
            seen.values.allSatisfy { $0 == 1 }, "\(seen.values.filter { $0 > 1 }.count) messages dead-lettered twice")
        #expect(positions.count == letters.count)
        #expect(Set(messages.map(\.category)) == Set(MalformedMessages.Category.allCases))

        // The valid reading after them is scored, the scorer is still ready, and it counted them all.
        let scored = try await mesh.read(Topic.scored, count: 1, within: 60).compactMap(\.scored)
        #expect(scored.contains { $0.event.id == valid.id })
        #expect(await scorer.readiness.evaluate(timeout: .seconds(5)).isReady)
        let counted = metrics.counters(label: "alertron_scorer_dead_letters_total").reduce(0) { $0 + $1.totalValue }
        #expect(counted == Int64(count))
        if case .failure(let error) = await scorer.stop() { Issue.record("shutdown failed: \(error)") }
    }
}
