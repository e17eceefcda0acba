// CSVTable: headers, labels, feature selection, quoting, and errors that point at the line.

import Foundation
import Models
import Testing

@Suite struct CSVTableTests {
    func read(
        _ text: String, features: [String]? = nil, label: String? = nil
    ) throws(ModelError)
        -> (data: FeatureMatrix, featureNames: [String], labels: [Bool]?)
    {
        try CSVTable.read(text: text, name: "t.csv", features: features, labelColumn: label)
    }

    @Test func headerNamesTheColumnsAndBlankLinesAreSkipped() throws {
        let table = try read("\u{FEFF}\n  \nf0,f1, f2 \r\n1,2,3\r\n\n4.5,-5e-1, 6\n")
        #expect(table.featureNames == ["f0", "f1", "f2"])
        #expect(table.data.rows == 2 && table.data.columns == 3)
        #expect(table.data.values == [1, 2, 3, 4.5, -0.5, 6])
        #expect(table.labels == nil)
    }

    @Test func headerOnlyGivesNoRows() throws {
        let table = try read("a,b\n")
        #expect(table.data.rows == 0 && table.data.columns == 2)
    }

    @Test func labelColumnIsSeparatedFromFeatures() throws {
        let table = try read("f0,label,f1\n1,0,2\n3,1,4\n5,true,6\n7,FALSE,8\n", label: "label")
        #expect(table.featureNames == ["f0", "f1"])
        #expect(table.data.values == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(table.labels == [false, true, true, false])
    }

    @Test func selectedFeaturesComeInTheRequestedOrder() throws {
        let table = try read("f0,f1,f2,label\n1,2,3,0\n4,5,6,1\n", features: ["f2", "f0"], label: "label")
        #expect(table.featureNames == ["f2", "f0"])
        #expect(table.data.values == [3, 1, 6, 4])
        #expect(table.labels == [false, true])
    }

    @Test func quotedFieldsMayHoldCommasAndQuotes() throws {
        let table = try read("\"temp, °C\",\"say \"\"hi\"\"\",\"label\"\n\"21.5\", \"1\" ,\"1\"\n", label: "label")
        #expect(table.featureNames == ["temp, °C", "say \"hi\""])
        #expect(table.data.values == [21.5, 1])
        #expect(table.labels == [true])
    }

    @Test func badNumberNamesFileLineAndColumn() {
        #expect(
            modelErrorMessage { try read("f0,f1\n1,2\n\n3,abc\n") } == "t.csv line 4: column f1: 'abc' is not a number")
        #expect(modelErrorMessage { try read("f0,f1\n1,\n") } == "t.csv line 2: column f1: '' is not a number")
        #expect(
            modelErrorMessage { try read("f0\n1e999\n") } == "t.csv line 2: column f0: '1e999' is not a finite number")
        #expect(modelErrorMessage { try read("f0\nnan\n") } == "t.csv line 2: column f0: 'nan' is not a number")
    }

    @Test func missingColumnIsNamed() {
        #expect(
            modelErrorMessage { try read("f0,f1\n1,2\n", features: ["f9"]) }
                == "t.csv: no column named 'f9' in the header (columns: f0, f1)")
        #expect(
            modelErrorMessage { try read("f0,f1\n1,2\n", label: "label") }
                == "t.csv: no column named 'label' in the header (columns: f0, f1)")
    }

    @Test func raggedRowIsRejectedWithItsLine() {
        #expect(
            modelErrorMessage { try read("f0,f1,f2\n1,2,3\n4,5\n") }
                == "t.csv line 3: 2 fields, expected 3 as in the header")
        #expect(
            modelErrorMessage { try read("f0,f1\n1,2,3\n") } == "t.csv line 2: 3 fields, expected 2 as in the header")
    }

    @Test func badLabelOrQuotingNamesTheLine() {
        #expect(
            modelErrorMessage { try read("f0,label\n1,0\n2,maybe\n", label: "label") }
                == """
                t.csv line 3: column label: 'maybe' is not a label (expected 1 or true for anomalous, 0 or false \
                for normal)
                """
        )
        #expect(modelErrorMessage { try read("f0,f1\n\"1,2\n") } == "t.csv line 2: a quoted field is not closed")
        #expect(
            modelErrorMessage { try read("f0,f1\n\"1\"x,2\n") }
                == "t.csv line 2: unexpected text after a closing quote in field 1")
        #expect(modelErrorMessage { try read("a,b,a\n1,2,3\n") } == "t.csv line 1: columns 1 and 3 are both named 'a'")
        #expect(modelErrorMessage { try read("\n\n") } == "t.csv: no header line (the file is empty)")
        #expect(
            modelErrorMessage { try read("f0,label\n1,0\n", features: ["label"], label: "label") }
                == "t.csv: column 'label' is both a feature and the label column")
    }

    @Test func readsFilesAndNamesMissingOnes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/cardio.csv"
        try "f0,f1,label\n0.0049123146617683841,1,0\n2,3,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let table = try CSVTable.read(path: path, features: nil, labelColumn: "label")
        #expect(table.data.values == [0.0049123146617683841, 1, 2, 3])
        #expect(table.labels == [false, true])
        #expect(
            modelErrorMessage { try CSVTable.read(path: "\(directory)/none.csv", features: nil, labelColumn: nil) }
                == "cannot read \(directory)/none.csv: No such file or directory")
        try "f0,f3\n1,abc\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            modelErrorMessage { try CSVTable.read(path: path, features: nil, labelColumn: nil) }
                == "\(path) line 2: column f3: 'abc' is not a number")
    }

    @Test func numbersParseToTheCorrectlyRoundedDouble() throws {
        let texts = [
            "0.1", "1e-05", "-2.3025850929940455", "5.0725783000000001", "123456789012345678901234",
            "0.72999999999999998", "2.2250738585072014e-308", "1.7976931348623157e308", ".5", "+3", "7.",
        ]
        let table = try read("x\n" + texts.joined(separator: "\n") + "\n")
        for (text, value) in zip(texts, table.data.values) {
            #expect(value == Double(text) ?? Double("0" + text), "\(text)")
        }
    }
}

@Suite struct ROCTests {
    @Test func perfectRankingIsOne() {
        #expect(ROC.auc(scores: [0.1, 0.2, 0.8, 0.9], labels: [false, false, true, true]) == 1)
    }

    @Test func reversedRankingIsZero() {
        #expect(ROC.auc(scores: [0.9, 0.8, 0.2, 0.1], labels: [false, false, true, true]) == 0)
    }

    @Test func allTiedIsOneHalf() {
        #expect(ROC.auc(scores: [0.5, 0.5, 0.5, 0.5], labels: [true, false, true, false]) == 0.5)
    }

    @Test func knownSmallCases() {
        // scikit-learn's roc_auc_score documentation example.
        #expect(ROC.auc(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]) == 0.75)
        // Pairs (pos, neg): (0.5, 0.5) tie = ½, (0.5, 0.2), (0.9, 0.5), (0.9, 0.2) = 1 each → 3.5 / 4.
        #expect(ROC.auc(scores: [0.5, 0.5, 0.2, 0.9], labels: [true, false, false, true]) == 0.875)
    }

    @Test func undefinedWithOnlyOneClass() {
        #expect(ROC.auc(scores: [0.1, 0.2], labels: [true, true]).isNaN)
    }
}
