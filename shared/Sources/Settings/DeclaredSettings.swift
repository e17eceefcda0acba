// A settings struct with its declarations: resolved from flags and the environment, described
// for --help, and shown as resolved for --show-settings, all from the one list.
import Foundation

public protocol DeclaredSettings: Sendable {
    /// Every setting, in the order --help lists them.
    static var declarations: [Setting<Self>] { get }
    /// Checks that involve more than one setting, and values derived from others; runs after
    /// every setting has been read. Throws `SettingsError`.
    mutating func finish() throws
}

extension DeclaredSettings {
    public mutating func finish() throws {}

    /// `defaults` with the environment applied, then the flags, then `finish()`.
    /// `arguments` are `--flag value`, `--flag=value` or, for a switch, `--flag`.
    public static func resolve(_ arguments: [String], environment: [String: String], defaults: Self) throws -> Self {
        var settings = defaults
        for setting in declarations { try setting.readEnvironment(&settings, environment) }
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw SettingsError("unexpected argument '\(argument)': settings are --name value")
            }
            let name: Substring
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = argument[argument.index(argument.startIndex, offsetBy: 2)..<equals]
                inline = String(argument[argument.index(after: equals)...])
            } else {
                name = argument.dropFirst(2)
            }
            guard let setting = declarations.first(where: { $0.flag == name }) else {
                throw SettingsError("unknown option '--\(name)'")
            }
            if setting.valueName == nil {
                try setting.readFlag(&settings, inline ?? "true")
                continue
            }
            if inline == nil, index < arguments.endIndex {
                inline = arguments[index]
                index += 1
            }
            guard let text = inline else { throw SettingsError("--\(name) needs a value") }
            try setting.readFlag(&settings, text)
        }
        try settings.finish()
        return settings
    }

    /// One entry per setting, as --help shows it: flag, help, variable and default.
    public static func help(defaults: Self) -> String {
        declarations.map { setting in
            var line = "--\(setting.flag)"
            if let valueName = setting.valueName { line += " <\(valueName)>" }
            var text = "\(setting.help) [env: \(setting.environment)]"
            if let shown = setting.defaultNote ?? (setting.isSecret ? nil : setting.show(defaults)), !shown.isEmpty {
                text += " (default: \(shown))"
            }
            return "  \(line)\n" + wrapped(text, indent: "      ", width: 78)
        }.joined(separator: "\n")
    }

    /// Words onto lines of at most `width` columns (a longer word keeps its own line), each indented.
    static func wrapped(_ text: String, indent: String, width: Int) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count, line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// `VARIABLE=value` per setting as resolved; secrets show only whether they are set.
    public func shown() -> String {
        Self.declarations.map { setting in
            let value = setting.show(self)
            let text = setting.isSecret ? (value == nil ? "" : "<set>") : value ?? ""
            return "\(setting.environment)=\(text)"
        }.joined(separator: "\n")
    }
}

/// The settings every service has (HTTP, logging) beside one service's own, resolved together
/// from one command line.
public struct Combined<First: DeclaredSettings, Second: DeclaredSettings>: DeclaredSettings {
    public var first: First
    public var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public static var declarations: [Setting<Self>] {
        First.declarations.within(\Self.first) + Second.declarations.within(\Self.second)
    }

    public mutating func finish() throws {
        try first.finish()
        try second.finish()
    }
}
