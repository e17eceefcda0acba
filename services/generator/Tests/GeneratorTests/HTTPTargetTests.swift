// The generator posting to ingest over HTTP, against a stand-in ingest on a free port: a 503
// is retried after its Retry-After with nothing lost, a 413 splits the batch, and a 400
// stops the run.
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Generator

/// Answers like ingest: 202 with the accepted ids, or whatever `answer` says for a request.
final class StandInIngest: Sendable {
    struct Request: Sendable {
        var path: String
        var lines: Int
        var status: Int
        var at: ContinuousClock.Instant
        var contentType: String?
        var authorization: String?
    }

    /// The status (and Retry-After) for request number n (from 0) with this many lines.
    let answer: @Sendable (_ number: Int, _ lines: Int) -> (status: Int, retryAfter: String?)
    let requests = Mutexed<[Request]>([])
    let accepted = Mutexed<[String]>([])

    init(
        answer: @escaping @Sendable (_ number: Int, _ lines: Int) -> (status: Int, retryAfter: String?) = { _, _ in
            (202, nil)
        }
    ) {
        self.answer = answer
    }

    var application: some ApplicationProtocol {
        let router = Router()
        for path in ["/v1/readings", "/v1/logs"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                let body = try await request.body.collect(upTo: 64 << 20)
                let lines = String(buffer: body).split(separator: "\n")
                let number = self.requests.withLock { $0.count }
                let (status, retryAfter) = self.answer(number, lines.count)
                self.requests.withLock {
                    $0.append(
                        Request(
                            path: path, lines: lines.count, status: status, at: .now,
                            contentType: request.headers[.contentType], authorization: request.headers[.authorization]))
                }
                guard status == 202 else {
                    var headers = HTTPFields()
                    if let retryAfter { headers[.retryAfter] = retryAfter }
                    return Response(
                        status: .init(code: status), headers: headers,
                        body: .init(
                            byteBuffer: ByteBuffer(
                                string: #"{"error":"stand-in says \#(status)","row":0,"field":"id"}"#)))
                }
                let ids = try lines.map { try EventCodec.decodeInbound(Array($0.utf8)).id }
                self.accepted.withLock { $0.append(contentsOf: ids) }
                let json = #"{"accepted":\#(ids.count),"ids":[\#(ids.map { "\"\($0)\"" }.joined(separator: ","))]}"#
                return Response(
                    status: .accepted, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: json)))
            }
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger)
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct HTTPTargetTests {
    private func settings(port: Int, count: Int, mode: GeneratorMode = .readings) -> GeneratorSettings {
        var settings = testSettings(count: count, mode: mode)
        settings.target = .http
        settings.ingestURL = URL(string: "http://127.0.0.1:\(port)")!
        settings.ingestToken = "secret-token"
        settings.batchSize = 100
        settings.batchesInFlight = 1
        return settings
    }

    @Test func a503IsRetriedAfterItsRetryAfterAndNothingIsLost() async throws {
        let ingest = StandInIngest { number, _ in number == 0 ? (503, "1") : (202, nil) }
        try await ingest.application.test(.live) { client in
            let generator = try RunningGenerator(settings: settings(port: try #require(client.port), count: 300))
            try await eventually(30, "the run to finish") { generator.hasFinished }
            _ = await generator.stop()

            #expect(
                ingest.accepted.withLock { $0 } == (0..<300).map { "test-\($0)" }, "every event exactly once, in order")
            let requests = ingest.requests.withLock { $0 }
            #expect(requests.map(\.status) == [503, 202, 202, 202])
            #expect(requests[1].at - requests[0].at >= .milliseconds(950), "the retry waited for Retry-After")
            #expect(
                requests.allSatisfy {
                    $0.contentType == "application/x-ndjson" && $0.authorization == "Bearer secret-token"
                })
            let summary = generator.worker.summary
            #expect(summary.delivered.total == 300 && summary.undelivered == 0 && summary.failedAttempts == 1)
        }
    }

    @Test func aTooLargeRequestIsSplitAndLogLinesGoToTheirOwnEndpoint() async throws {
        let ingest = StandInIngest { _, lines in lines > 30 ? (413, nil) : (202, nil) }
        try await ingest.application.test(.live) { client in
            let generator = try RunningGenerator(
                settings: settings(port: try #require(client.port), count: 400, mode: .mixed))
            try await eventually(30, "the run to finish") { generator.hasFinished }
            _ = await generator.stop()

            #expect(Set(ingest.accepted.withLock { $0 }) == Set((0..<400).map { "test-\($0)" }))
            #expect(ingest.accepted.withLock { $0.count } == 400)
            let requests = ingest.requests.withLock { $0 }
            #expect(requests.filter { $0.status == 202 }.allSatisfy { $0.lines <= 30 })
            #expect(requests.contains { $0.path == "/v1/logs" } && requests.contains { $0.path == "/v1/readings" })
        }
    }

    @Test func aRejectedRequestStopsTheRunWithIngestsReason() async throws {
        let ingest = StandInIngest { _, _ in (400, nil) }
        try await ingest.application.test(.live) { client in
            let generator = try RunningGenerator(settings: settings(port: try #require(client.port), count: 300))
            guard case .failure(let error) = await generator.ended() else {
                Issue.record("the run should have failed")
                return
            }
            #expect("\(error)".contains("ingest_rejected"), "\(error)")
            #expect("\(error)".contains("stand-in says 400"))
            #expect(ingest.requests.withLock { $0.count } == 1, "a 400 is not resent")
        }
    }

    @Test func theRetryAfterHeaderIsReadAsSecondsOrAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        #expect(IngestClient.parseRetryAfter("2", now: now) == .seconds(2))
        #expect(IngestClient.parseRetryAfter("0.5", now: now) == .milliseconds(500))
        #expect(IngestClient.parseRetryAfter("Thu, 01 Jan 2026 00:00:07 GMT", now: now) == .seconds(7))
        #expect(IngestClient.parseRetryAfter("3600", now: now) == .seconds(60), "capped")
        #expect(IngestClient.parseRetryAfter("soon", now: now) == nil)
        #expect(IngestClient.verdict(status: 503, retryAfter: "1") == .retry(after: .seconds(1)))
        #expect(IngestClient.verdict(status: 503, retryAfter: nil) == .retry(after: nil))
        #expect(IngestClient.verdict(status: 401, retryAfter: nil) == .reject)
        #expect(IngestClient.verdict(status: 202, retryAfter: nil) == .accepted)
    }
}
