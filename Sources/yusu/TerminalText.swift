import Foundation

/// The one way text from outside (file names, ids, decoder messages) reaches a terminal:
/// control characters are shown as `\xNN`, never sent, so a name cannot set the window's
/// title (`ESC ]0;…`), clear the screen (`ESC [2J`), colour what follows or split a
/// one-line message in two.
enum TerminalText {
    /// One line: every control character escaped, line breaks included.
    static func line(_ text: String) -> String { escaped(text, keeping: []) }

    /// A multi-line document (text reports): line breaks and tabs kept, every other control
    /// character escaped.
    static func document(_ text: String) -> String { escaped(text, keeping: ["\n", "\t"]) }

    private static func escaped(_ text: String, keeping: Set<Unicode.Scalar>) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !keeping.contains($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) && !keeping.contains(scalar) {
                out.append(contentsOf: String(format: "\\x%02x", scalar.value).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// C0, DEL and C1 (the 8-bit escape introducers a terminal may honour too).
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }
}
