import Foundation

/// Number and time formatting for self-contained HTML pages, and the frame every page shares.
/// Escaping is the templates' (Templates.swift): no page writes markup around a value by hand.
public enum HTML {
    /// A number for an SVG attribute: at most 1 decimal, no exponent.
    public static func n(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// Shared page frame (Templates/page.mustache): fonts that carry Chinese on common systems,
    /// print-friendly. `body` and `extraStyle` are placed as they are: a page rendered from a
    /// template, and the style a site around it needs.
    public static func page(title: String, body: String, extraStyle: String = "") -> String {
        struct Frame: Encodable { let title: String, body: String, extraStyle: String }
        return Templates.render("page", Frame(title: title, body: body, extraStyle: extraStyle))
    }

    /// Minutes:seconds with tenths, as the text report writes times.
    public static func clock(_ seconds: Double) -> String { TextReport.clock(seconds) }

}

/// A moment on a page that plays the recording from there (when the page has a player): `at`
/// is the player's position (seconds, two decimals), `clock` what a person reads. The fields
/// of Templates/time.mustache.
struct TimeLink {
    let at: String
    let clock: String
    init(_ seconds: Double) {
        at = String(format: "%.2f", seconds)
        clock = HTML.clock(seconds)
    }
}
