// c(n), path lengths on a forest small enough to follow by hand, and the score formula.

import Foundation
import Models
import Testing

@Suite struct PathLengthTests {
    @Test func averagePathLengthMatchesHandComputedValues() {
        let c = IsolationForest.averagePathLengthOfUnsuccessfulSearch
        #expect(c(0) == 0)
        #expect(c(1) == 0)
        #expect(c(2) == 1)
        // 2(ln 2 + γ) − 4/3, 2(ln 9 + γ) − 18/10, 2(ln 255 + γ) − 510/256, worked out by hand.
        #expect(abs(c(3) - 1.20739235759) < 1e-9)
        #expect(abs(c(10) - 3.74888048448) < 1e-9)
        #expect(abs(c(256) - 10.2448) < 1e-4)
        for n in [4, 17, 100, 1000, 100_000] {
            #expect(abs(c(n) - cReference(n)) < 1e-12, "c(\(n))")
        }
    }

    /// Two trees of depth 2 over features a and b (ψ = 4):
    ///
    ///     tree 0: a < 5 ? (b < 2 ? [1 point: 2 + c(1)] : [2 points: 2 + c(2)])
    ///                   : external at depth 1 with 1 point (pass-through): 1 + c(1)
    ///     tree 1: b < 0 ? external at depth 1 with 1 point (pass-through): 1 + c(1)
    ///                   : external at depth 1 with 3 equal points (pass-through): 1 + c(3)
    static let tinyForest = HandBuiltArtifact(
        featureNames: ["a", "b"], depth: 2, subsample: 4,
        features: [0, 1, 0, /* tree 1 */ 1, 0, 0],
        thresholds: [5, 2, nil, /* tree 1 */ 0, nil, nil],
        leafValues: [
            2 + cReference(1), 2 + cReference(2), 1 + cReference(1), 1 + cReference(1),
            /* tree 1 */ 1 + cReference(1), 1 + cReference(1), 1 + cReference(3), 1 + cReference(3),
        ])

    @Test(arguments: [
        // (a, b, tree 0 path length, tree 1 path length)
        (1.0, 1.0, 2.0, 1 + cReference(3)),  // left, left | right into a pass-through
        (1.0, 3.0, 3.0, 1 + cReference(3)),  // left, right: the c(2) adjustment
        (6.0, -1.0, 1.0, 1.0),  // pass-through on both trees
        (5.0, 0.0, 1.0, 1 + cReference(3)),  // x == split point goes right
    ])
    func pathLengthOnHandBuiltForestIsPredictable(a: Double, b: Double, tree0: Double, tree1: Double) throws {
        let model = try IsolationForest(artifactJSON: Array(Self.tinyForest.json.utf8))
        let expected = (tree0 + tree1) / 2
        #expect(abs(model.averagePathLength([a, b]) - expected) < 1e-12)
        #expect(abs(model.score([a, b]) - pow(2, -expected / cReference(4))) < 1e-12)
    }

    @Test func scoreIsOneHalfWhenAveragePathLengthEqualsCOfPsi() throws {
        let c4 = IsolationForest.averagePathLengthOfUnsuccessfulSearch(4)
        let artifact = HandBuiltArtifact(
            featureNames: ["a"], depth: 2, subsample: 4,
            features: [0, 0, 0], thresholds: [0, nil, nil], leafValues: [c4, c4, c4, c4])
        let model = try IsolationForest(artifactJSON: Array(artifact.json.utf8))
        #expect(model.averagePathLength([-1.0]) == c4)
        #expect(model.score([-1.0]) == 0.5)
        #expect(model.score([7.0]) == 0.5)
    }

    @Test func scoreIsTwoToTheMinusNormalisedAveragePathLength() {
        let model = defaultSensorModel
        let c256 = IsolationForest.averagePathLengthOfUnsuccessfulSearch(256)
        for row in [[21.0, 1010, 0.025], [40.0, 960, 0.2], [15.0, 1030, 0.01]] {
            let expected = pow(2, -model.averagePathLength(row) / c256)
            #expect(abs(model.score(row) - expected) < 1e-12)
            #expect(model.score(row) > 0 && model.score(row) <= 1)
        }
    }
}
