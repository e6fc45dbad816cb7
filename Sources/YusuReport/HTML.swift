import Foundation

/// Escaping and number formatting for self-contained HTML, and the frame every page shares.
public enum HTML {
    public static func escape(_ text: String) -> String {
        // Most text has nothing to escape: a byte scan says so without building a copy.
        guard text.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

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
        struct Frame { let title: String, body: String, extraStyle: String }
        return Templates.render("page", Frame(title: title, body: body, extraStyle: extraStyle))
    }

    /// Minutes:seconds with tenths, as the text report writes times.
    public static func clock(_ seconds: Double) -> String { TextReport.clock(seconds) }

    /// A time that plays the recording from there (when the page has a player; otherwise a
    /// plain link to the fragment): Templates/time.mustache.
    public static func timeLink(_ seconds: Double) -> String { Templates.render("time", TimeLink(seconds)) }
}

/// A moment on a page: `at` is the player's position (seconds, two decimals), `clock` what a
/// person reads. The fields of Templates/time.mustache.
struct TimeLink {
    let at: String
    let clock: String
    init(_ seconds: Double) {
        at = String(format: "%.2f", seconds)
        clock = HTML.clock(seconds)
    }
}
