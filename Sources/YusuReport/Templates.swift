import Foundation
import Mustache

/// The pages' Mustache templates (Templates/*.mustache), compiled into the binary so that it
/// needs no files beside it. A template is the file's bytes exactly: one placed inside a
/// line (`time` here; a badge, a chart elsewhere) ends without a newline.
///
/// Every `{{value}}` is HTML-escaped by the library (`& < > " '`); only
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

    static func render(_ name: String, _ model: Any) -> String { report.render(name, model) }
}

/// Templates that render one another as partials: a module's pages. Each module compiles its
/// own in (`PackageResources`) and keeps one set.
public struct TemplateSet: Sendable {
    let library: MustacheLibrary

    /// - Parameter files: each template's name and its file's bytes (UTF-8).
    public init(_ files: [(name: String, bytes: [UInt8])]) {
        var library = MustacheLibrary()
        for (name, bytes) in files {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                // The templates are part of the build; the report tests render every one.
                preconditionFailure("template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// `model`'s stored properties are the template's names; see the template for which.
    public func render(_ name: String, _ model: Any) -> String {
        guard let text = library.render(ViewModel.wrap(model) ?? model, withTemplate: name) else {
            preconditionFailure("no template named \(name)")
        }
        return text
    }
}

/// A view model read once: each struct's stored properties by name, nested structs and
/// lists of them likewise. swift-mustache reads a plain struct through a `Mirror` of all its
/// properties at every `{{name}}` (an overview of 25 agents took 19 ms of its 30 that way);
/// a `MustacheParent` is asked by name, here a dictionary read. A nil property is left out,
/// so the lookup climbs to the enclosing context as it does through a `Mirror`.
struct ViewModel: MustacheParent {
    let children: [String: Any]

    func child(named name: String) -> Any? { children[name] }

    /// `value` as a template reads it: strings, numbers and Bools as they are; a struct as a
    /// `ViewModel`; an array with its elements wrapped; nil for an Optional's none.
    static func wrap(_ value: Any) -> Any? {
        // The leaves first, by their concrete types (a cast to a protocol is a search of the
        // conformance tables, a Mirror an allocation).
        if value is String || value is Bool || value is ViewModel { return value }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional: return mirror.children.first.flatMap { wrap($0.value) }
        case .struct:
            var children: [String: Any] = [:]
            for child in mirror.children {
                if let label = child.label, let wrapped = wrap(child.value) { children[label] = wrapped }
            }
            return ViewModel(children: children)
        case .collection: return mirror.children.compactMap { wrap($0.value) }
        default: return value  // numbers, and dictionaries (read by key already)
        }
    }
}
