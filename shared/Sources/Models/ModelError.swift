// The one error type of the Models module: a message that says what is wrong and where.

/// Everything that can go wrong while training, loading, saving or reading data for a model.
///
/// The message names the file, line, field or parameter at fault, so a person can fix it
/// without a debugger, e.g. `trees.features has 25400 entries, expected 25500 (100 trees × 255)`.
/// Messages never quote more than a short token of the offending input.
public struct ModelError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// The same error with `context` in front, e.g. the path of the file being read.
    func prefixed(_ context: String) -> ModelError {
        ModelError("\(context): \(message)")
    }
}
