import Foundation
import Mustache

/// The pages' Mustache templates (Templates/*.mustache), compiled into the binary so that it
/// needs no files beside it. A template is the file's bytes exactly: one placed inside a
/// line (`time` here; a badge, a chart elsewhere) ends without a newline.
///
/// Every `{{value}}` is HTML-escaped (`& < > " '`, `HTMLEscaping`); only
/// `{{{…}}}` places a page fragment that was itself rendered from a template (the page's
/// body, the site's navigation). The models hand the templates strings already formatted
/// (times, one-decimal SVG coordinates), so a template decides markup and nothing else.
enum Templates {
    static let report = TemplateSet([
        ("page", PackageResources.page_mustache), ("call", PackageResources.call_mustache),
        ("player", PackageResources.player_mustache), ("time", PackageResources.time_mustache),
        ("axis", PackageResources.axis_mustache), ("timeline", PackageResources.timeline_mustache),
        ("pitch", PackageResources.pitch_mustache), ("rate", PackageResources.rate_mustache),
        ("levels", PackageResources.levels_mustache),
    ])

    static func render(_ name: String, _ model: some Encodable) -> String { report.render(name, model) }
}

/// Templates that render one another as partials: a module's pages. Each module compiles its
/// own in (`PackageResources`) and keeps one set.
public struct TemplateSet: Sendable {
    let library: MustacheLibrary

    /// - Parameter files: each template's name and its file's bytes (UTF-8). Each is read
    ///   as HTML escaped by `HTMLEscaping` (a `CONTENT_TYPE` pragma line is put before it,
    ///   which the parser removes as a standalone tag).
    public init(_ files: [(name: String, bytes: [UInt8])]) {
        HTMLEscaping.registered()
        var library = MustacheLibrary()
        for (name, bytes) in files {
            do {
                let text = "{{% CONTENT_TYPE: \(HTMLEscaping.name) }}\n" + String(decoding: bytes, as: UTF8.self)
                try library.register(text, named: name)
            } catch {
                // The templates are part of the build; the report tests render every one.
                preconditionFailure("template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// `model`'s stored properties are the template's names; see the template for which.
    public func render(_ name: String, _ model: some Encodable) -> String {
        guard let text = library.render(ViewModel.wrap(model), withTemplate: name) else {
            preconditionFailure("no template named \(name)")
        }
        return text
    }
}

/// HTML escaping for every `{{value}}`: the five characters swift-mustache's own HTML content
/// type escapes (`& < > " '`, as `&amp; &lt; &gt; &quot; &#39;`), found by a scan of the
/// UTF-8 bytes. A value with none of them (nearly every one) is returned as it is; the
/// library's escaper builds a copy Character by Character, an eighth of the call list's
/// time. Bytes, not Characters: a quote followed by a combining mark is one Character, which
/// the library's comparison passes over, and it would still end an attribute in a browser.
struct HTMLEscaping: MustacheContentType {
    static let name = "YUSU_HTML"

    /// Registers this content type under `name` (once; templates name it when they are parsed).
    static func registered() { _ = registration }
    private static let registration: Void = MustacheContentTypes.register(HTMLEscaping(), named: name)

    func escapeText(_ text: String) -> String {
        var text = text
        let escaped: String? = text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 })
            else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            for b in bytes {
                switch b {
                case 0x26: out.append(contentsOf: "&amp;".utf8)
                case 0x3C: out.append(contentsOf: "&lt;".utf8)
                case 0x3E: out.append(contentsOf: "&gt;".utf8)
                case 0x22: out.append(contentsOf: "&quot;".utf8)
                case 0x27: out.append(contentsOf: "&#39;".utf8)
                default: out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        return escaped ?? text
    }
}

/// A view model read once, through its `Encodable` conformance: each struct's stored
/// properties by name, nested structs and lists of them likewise. swift-mustache reads a
/// plain struct through a `Mirror` of all its properties at every `{{name}}`, and a `Mirror`
/// of each struct once was still a quarter of the call list's time (a field's type is looked
/// up by its mangled name); the synthesised `encode(to:)` names each property directly. A
/// `MustacheParent` is asked by name, here a dictionary read. A nil property is left out
/// (`encodeIfPresent`), so the lookup climbs to the enclosing context as it does through a
/// `Mirror`. Strings, Bools and numbers stay as they are, so they render as before.
struct ViewModel: MustacheParent {
    let children: [String: Any]

    func child(named name: String) -> Any? { children[name] }

    /// `value` as a template reads it. A Bool, String or number of any width is a leaf, taken
    /// here and never handed to the encoder: each of them encodes itself through a single
    /// value container as itself, which would come back here for ever.
    static func wrap(_ value: some Encodable) -> Any {
        if value is Bool { return value }
        if value is String || value is any Numeric { return TemplateText(value) }
        let encoder = TemplateEncoder()
        // The containers below never throw; a model whose own `encode(to:)` did would be a
        // programming error.
        do { try value.encode(to: encoder) } catch { preconditionFailure("view model: \(error)") }
        return encoder.value
    }
}

/// A string or number as a template prints it: its text, made once. swift-mustache renders a
/// `MustacheCustomRenderable` by its `renderText` after one cast, where a plain String or
/// number went through three more casts and `String(describing:)` at every `{{name}}`.
/// Sections treat it as they treat a string (present, and not a list); Bools stay Bools,
/// which sections test.
struct TemplateText: MustacheCustomRenderable {
    let renderText: String
    var isNull: Bool { false }
    init(_ value: Any) { renderText = String(describing: value) }
}

/// Encodes a view model into `ViewModel`s (keyed), arrays (unkeyed) and leaves.
private final class TemplateEncoder: Encoder {
    final class Keyed { var children: [String: Any] = [:] }
    final class Unkeyed { var items: [Any] = [] }

    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    private var keyed: Keyed?
    private var unkeyed: Unkeyed?
    fileprivate var single: Any?

    var value: Any {
        if let keyed { return ViewModel(children: keyed.children) }
        if let unkeyed { return unkeyed.items }
        return single as Any
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box = keyed ?? Keyed()
        keyed = box
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let box = unkeyed ?? Unkeyed()
        unkeyed = box
        return UnkeyedContainer(box: box)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleContainer(encoder: self) }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: Keyed
        var codingPath: [CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) {}
        mutating func encode(_ value: Bool, forKey key: Key) { box.children[key.stringValue] = value }
        mutating func encode(_ value: String, forKey key: Key) { box.children[key.stringValue] = TemplateText(value) }
        mutating func encode(_ value: Double, forKey key: Key) { box.children[key.stringValue] = TemplateText(value) }
        mutating func encode(_ value: Int, forKey key: Key) { box.children[key.stringValue] = TemplateText(value) }
        mutating func encode(_ value: some Encodable, forKey key: Key) {
            box.children[key.stringValue] = ViewModel.wrap(value)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            preconditionFailure("view models nest through encode(_:forKey:)")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
            preconditionFailure("view models nest through encode(_:forKey:)")
        }
        mutating func superEncoder() -> Encoder { preconditionFailure("view models are structs") }
        mutating func superEncoder(forKey key: Key) -> Encoder { preconditionFailure("view models are structs") }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let box: Unkeyed
        var codingPath: [CodingKey] { [] }
        var count: Int { box.items.count }
        mutating func encodeNil() {}
        mutating func encode(_ value: some Encodable) { box.items.append(ViewModel.wrap(value)) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            preconditionFailure("view models nest through encode(_:)")
        }
        mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
            preconditionFailure("view models nest through encode(_:)")
        }
        mutating func superEncoder() -> Encoder { preconditionFailure("view models are structs") }
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let encoder: TemplateEncoder
        var codingPath: [CodingKey] { [] }
        mutating func encodeNil() {}
        /// An enum's raw value, a wrapper's inner value: read as a template reads it.
        mutating func encode(_ value: some Encodable) { encoder.single = ViewModel.wrap(value) }
    }
}
