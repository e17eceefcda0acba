// Every setting of every service is declared once: flag, environment variable, help, and the
// field it sets. The default is that field's initial value. Resolution, --help and
// --show-settings all read the same declaration.
import Foundation

/// One setting. A flag wins over its environment variable, which wins over the default.
public struct Setting<Root>: Sendable {
    /// The long flag, without its dashes: `max-events`.
    public let flag: String
    /// The environment variable, or a pattern for a family of them: `KAFKA_<PROPERTY>`.
    public let environment: String
    public let help: String
    /// What the value is called in --help; nil for a switch, which takes no value.
    public let valueName: String?
    /// Its value is never printed (tokens, URLs with credentials).
    public let isSecret: Bool
    /// Shown in --help instead of the default's value (a default that depends on others).
    let defaultNote: String?
    let readEnvironment: @Sendable (inout Root, [String: String]) throws -> Void
    let readFlag: @Sendable (inout Root, String) throws -> Void
    let show: @Sendable (Root) -> String?

    /// How the setting is named in an error: `--max-events / INGEST_MAX_EVENTS`.
    public var label: String { "--\(flag) / \(environment)" }

    /// The general form: `parse` turns text into the value, or nil with `rule` saying what it must
    /// be; or it throws a `SettingsError` that says what is wrong with this text.
    public static func parsed<Value>(
        _ flag: String, env: String, _ field: WritableKeyPath<Root, Value> & Sendable, help: String,
        valueName: String = "value", default note: String? = nil, secret: Bool = false, rule: String,
        parse: @escaping @Sendable (String) throws(SettingsError) -> Value?,
        show: @escaping @Sendable (Value) -> String?
    ) -> Setting {
        let label = "--\(flag) / \(env)"
        let set: @Sendable (inout Root, String) throws -> Void = { root, text in
            let parsed: Value?
            do throws(SettingsError) { parsed = try parse(text) } catch {
                throw SettingsError("\(label): \(error.description)")
            }
            guard let value = parsed else { throw SettingsError("\(label) \(rule)") }
            root[keyPath: field] = value
        }
        return Setting(
            flag: flag, environment: env, help: help, valueName: valueName, isSecret: secret, defaultNote: note,
            readEnvironment: { root, environment in
                if let text = environment[env], !text.isEmpty { try set(&root, text) }
            },
            readFlag: set,
            show: { root in show(root[keyPath: field]) })
    }

    /// A number, string or other value written as text, optionally checked.
    public static func value<Value: LosslessStringConvertible>(
        _ flag: String, env: String, _ field: WritableKeyPath<Root, Value> & Sendable, help: String,
        valueName: String = "value", default note: String? = nil,
        rule: String? = nil, where valid: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) -> Setting {
        parsed(
            flag, env: env, field, help: help, valueName: valueName, default: note,
            rule: rule ?? "must be a valid \(Value.self)",
            parse: { text in Value(text).flatMap { valid($0) ? $0 : nil } },
            show: { "\($0)" })
    }

    /// A value with no default (tokens, URLs, paths): unset unless given.
    public static func optional<Value: LosslessStringConvertible>(
        _ flag: String, env: String, _ field: WritableKeyPath<Root, Value?> & Sendable, help: String,
        valueName: String = "value", default note: String? = nil, secret: Bool = false,
        rule: String? = nil, where valid: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) -> Setting {
        parsed(
            flag, env: env, field, help: help, valueName: valueName, default: note, secret: secret,
            rule: rule ?? "must be a valid \(Value.self)",
            parse: { text in Value(text).flatMap { valid($0) ? .some($0) : nil } },
            show: { $0.map { "\($0)" } })
    }

    /// One of an enumeration's cases, by name.
    public static func choice<Value: RawRepresentable & CaseIterable>(
        _ flag: String, env: String, _ field: WritableKeyPath<Root, Value> & Sendable, help: String,
        default note: String? = nil
    ) -> Setting where Value.RawValue == String {
        parsed(
            flag, env: env, field, help: help, valueName: Value.allCases.map(\.rawValue).joined(separator: "|"),
            default: note, rule: "must be one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))",
            parse: { Value(rawValue: $0.lowercased()) }, show: { $0.rawValue })
    }

    /// A switch: the flag alone turns it on; the variable takes true/false, 1/0 or yes/no.
    public static func toggle(
        _ flag: String, env: String, _ field: WritableKeyPath<Root, Bool> & Sendable, help: String,
        default note: String? = nil
    ) -> Setting {
        let value = parsed(
            flag, env: env, field, help: help, default: note, rule: "must be true or false",
            parse: Self.boolean, show: { "\($0)" })
        return Setting(
            flag: flag, environment: env, help: help, valueName: nil, isSecret: false, defaultNote: note,
            readEnvironment: value.readEnvironment, readFlag: value.readFlag, show: value.show)
    }

    /// Full control for settings that are not one value in one field (repeated pairs, a
    /// family of variables): the closures apply the variable(s) and one flag's text.
    public static func custom(
        _ flag: String, env: String, help: String, valueName: String, secret: Bool = false, default note: String? = nil,
        environment readEnvironment: @escaping @Sendable (inout Root, [String: String]) throws -> Void,
        flag readFlag: @escaping @Sendable (inout Root, String) throws -> Void,
        show: @escaping @Sendable (Root) -> String?
    ) -> Setting {
        Setting(
            flag: flag, environment: env, help: help, valueName: valueName, isSecret: secret, defaultNote: note,
            readEnvironment: readEnvironment, readFlag: readFlag, show: show)
    }

    /// The same setting on a part of a larger whole: `KafkaConfiguration`'s settings on `\.kafka`.
    public func within<Outer>(_ part: WritableKeyPath<Outer, Root> & Sendable) -> Setting<Outer> {
        let (readEnvironment, readFlag, show) = (self.readEnvironment, self.readFlag, self.show)
        return Setting<Outer>(
            flag: flag, environment: environment, help: help, valueName: valueName, isSecret: isSecret,
            defaultNote: defaultNote,
            readEnvironment: { outer, environment in try readEnvironment(&outer[keyPath: part], environment) },
            readFlag: { outer, text in try readFlag(&outer[keyPath: part], text) },
            show: { outer in show(outer[keyPath: part]) })
    }

    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}

extension Array {
    /// Every setting of a part, lifted onto the whole that holds it.
    public func within<Root, Outer>(_ part: WritableKeyPath<Outer, Root> & Sendable) -> [Setting<Outer>]
    where Element == Setting<Root> {
        map { $0.within(part) }
    }
}

/// A setting given a value it cannot take; the message names the flag and variable, never the value.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
