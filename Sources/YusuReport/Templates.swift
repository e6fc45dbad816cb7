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
        guard let text = library.render(model, withTemplate: name) else {
            preconditionFailure("no template named \(name)")
        }
        return text
    }
}
