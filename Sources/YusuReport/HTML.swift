import Foundation

/// Small helpers for writing self-contained HTML by hand: escaping and number formatting.
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

    /// Shared page frame: fonts that carry Chinese on common systems, print-friendly.
    public static func page(title: String, body: String, extraStyle: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        :root { --ok: #1b7f3b; --bad: #b3261e; --na: #6b6b6b; --agent: #2f6db5; --customer: #c77c0e; --grid: #d9d9d9; }
        body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi \
        Micro Hei", "Helvetica Neue", Arial, sans-serif;
               margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1d1d1d; line-height: 1.45; }
        h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.15em; margin: 28px 0 8px; border-bottom: 1px solid \
        var(--grid); padding-bottom: 4px; }
        .meta { color: #555; margin-bottom: 12px; }
        .score { font-size: 2.2em; font-weight: 700; }
        table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--grid); vertical-align: top; }
        th { background: #f4f4f4; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .pass { color: var(--ok); font-weight: 700; } .fail { color: var(--bad); font-weight: 700; } .na { color: \
        var(--na); }
        .near { opacity: 0.75; } .near-label { font-weight: 400; font-size: 0.85em; color: var(--na); }
        .zh { font-weight: 600; } .en { color: #555; font-size: 0.9em; }
        .t { font-variant-numeric: tabular-nums; white-space: nowrap; }
        svg { width: 100%; height: auto; display: block; }
        svg text { font-family: inherit; font-size: 11px; fill: #333; }
        .legend span { display: inline-block; margin-right: 14px; font-size: 0.9em; }
        .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin-right: 4px; }
        a { color: var(--agent); }
        .warning { color: var(--bad); margin: 4px 0; }
        a.current { background: #ffe082; font-weight: 700; }
        .player { margin: 10px 0; } .player audio { width: 100%; max-width: 640px; vertical-align: middle; }
        [data-t] { cursor: pointer; }
        \(extraStyle)
        @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } svg, table { break-inside: \
        avoid; } a { color: inherit; } }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// Minutes:seconds with tenths, as the text report writes times.
    public static func clock(_ seconds: Double) -> String { TextReport.clock(seconds) }

    /// A time that plays the recording from there (when the page has a player; otherwise a
    /// plain link to the fragment).
    public static func timeLink(_ seconds: Double) -> String {
        """
        <a class=\"t\" href=\"#t=\(String(format: "%.2f", seconds))\" \
        data-t=\"\(String(format: "%.2f", seconds))\">\(clock(seconds))</a>
        """
    }
}
