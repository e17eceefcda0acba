// Pacing to a rate, on a clock the test moves by hand.
import Testing
@testable import Generator

@Suite struct RatePacerTests {
    private let origin = ContinuousClock.now

    @Test func rateZeroSendsEverythingAtOnce() {
        var pacer = RatePacer(rate: 0)
        #expect(pacer.decide(at: origin, limit: 1000) == .send(1000))
        #expect(pacer.decide(at: origin, limit: 1000) == .send(1000))
    }

    @Test func aLowRateSendsOneEventAtATimeOnSchedule() {
        var pacer = RatePacer(rate: 10)
        #expect(pacer.decide(at: origin, limit: 1000) == .send(1))
        #expect(pacer.decide(at: origin, limit: 1000) == .wait(until: origin + .milliseconds(100)))
        #expect(pacer.decide(at: origin + .milliseconds(100), limit: 1000) == .send(1))
        // Half a second later, five more are due.
        #expect(pacer.decide(at: origin + .milliseconds(600), limit: 1000) == .send(5))
    }

    @Test func aHighRateSendsBatchesOfTenMillisecondsWorth() {
        var pacer = RatePacer(rate: 100_000)
        #expect(pacer.decide(at: origin, limit: 5000) == .wait(until: origin + .microseconds(9990)))
        #expect(pacer.decide(at: origin + .milliseconds(10), limit: 5000) == .send(1001))
        #expect(
            pacer.decide(at: origin + .milliseconds(100), limit: 5000) == .send(5000), "at most the limit per batch")
        #expect(pacer.decide(at: origin + .milliseconds(100), limit: 5000) == .send(4000))
    }

    @Test func overOneSecondBehindTheBacklogIsForgottenNotBurst() {
        var pacer = RatePacer(rate: 1000)
        #expect(pacer.decide(at: origin, limit: 100) == .wait(until: origin + .milliseconds(9)))
        #expect(pacer.decide(at: origin + .milliseconds(9), limit: 100) == .send(10))
        // Ten seconds of stall: 10 000 events due, but at most one second's worth is caught up.
        var sent = 0
        while case .send(let count) = pacer.decide(at: origin + .seconds(10), limit: 100) { sent += count }
        #expect(sent == 1000)
    }
}
