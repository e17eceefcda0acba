// Area under the ROC curve, for judging a model against labelled data.

public enum ROC {
    /// The probability that a random anomalous row scores above a random normal one (ties
    /// count one half): the Mann–Whitney U statistic over nPos × nNeg, with tied scores given
    /// their average rank. 1 is a perfect ranking, 0.5 chance, 0 exactly reversed. NaN when
    /// either class is empty; NaN scores rank lowest. `scores` and `labels` must have equal counts.
    public static func auc(scores: [Double], labels: [Bool]) -> Double {
        precondition(scores.count == labels.count, "ROC.auc: \(scores.count) scores but \(labels.count) labels")
        let positives = labels.count(where: { $0 })
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }

        var ranked = zip(scores, labels).map {
            (score: $0.isNaN ? -Double.infinity : $0, positive: $1, isNaN: $0.isNaN)
        }
        ranked.sort { lhs, rhs in
            lhs.score < rhs.score || (lhs.score == rhs.score && lhs.isNaN && !rhs.isNaN)
        }
        var positiveRankSum = 0.0
        var start = 0
        while start < ranked.count {
            var end = start + 1
            while end < ranked.count, ranked[end].score == ranked[start].score,
                ranked[end].isNaN == ranked[start].isNaN
            { end += 1 }
            // Ranks start + 1 ... end share their average.
            let averageRank = Double(start + 1 + end) / 2
            var positivesInGroup = 0
            for k in start..<end where ranked[k].positive { positivesInGroup += 1 }
            positiveRankSum += averageRank * Double(positivesInGroup)
            start = end
        }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }
}
