import Foundation
import YusuDelivery

/// The score of a call for a person: verdicts first, then the measures behind them.
public enum TextReport {
    /// `m:ss.s`; rounded to the tenth first, so 59.97 s is 1:00.0, never 0:60.0.
    public static func clock(_ seconds: Double) -> String {
        let tenths = Int((max(0, seconds) * 10).rounded())
        return String(format: "%d:%02d.%d", tenths / 600, tenths / 10 % 60, tenths % 10)
    }

    public static func render(_ call: CallMeasures, _ card: Scorecard) -> String {
        var out = ""
        let name = (call.file as NSString).lastPathComponent
        out += "Yusu 语速 — \(name)\n"
        out += String(
            format: "%@, %d Hz, %@, %@ long\n", call.formatName, call.sampleRateHz,
            call.channels == 2 ? "stereo (agent = channel \(call.agent.channel))" : "mono (agent only)",
            clock(call.durationSeconds))
        out += "Standard: \(card.standard.name) v\(card.standard.version)\n"
        for warning in call.warnings { out += "Warning: \(warning)\n" }
        out += "\n"
        if let score = card.score {
            out += "Score \(Scorecard.scoreText(score)) / 100\n\n"
        } else {
            out += "Score: not measurable\n\n"
        }
        for v in card.verdicts {
            // Near the limit: the 90% interval holds the limit; the point estimate's side is the
            // mark (one width for every mark, so the columns hold), and the next line says so.
            let mark =
                v.passed == nil
                ? "n/a " : v.passed! ? "PASS" : "FAIL"
            let unweighted = (card.standard.weights[v.rule] ?? 0) == 0 ? " [weight 0: not in the score]" : ""
            out += "  \(mark)  \(v.chineseName) \(v.englishName): \(v.valueText); limit \(v.limitText)\(unweighted)\n"
            if v.nearLimit {
                out += "        接近限值 near the limit: the 90% interval of the measure holds it; "
                out += "listen before acting on it\n"
            }
            if let reason = v.reason { out += "        \(reason)\n" }
            if v.passed == false {
                for e in v.evidence.prefix(5) {
                    out += "        at \(clock(e.startSeconds))–\(clock(e.endSeconds)): \(e.note)\n"
                }
                if v.evidence.count > 5 { out += "        … and \(v.evidence.count - 5) more\n" }
            }
        }
        out += "\nMeasures\n"
        for s in [call.agent] + (call.customer.map { [$0] } ?? []) {
            out += "  \(s.party.chineseName) \(s.party.rawValue) (channel \(s.channel)): "
            out +=
                """
                \(s.syllables) syllables (90%: \
                \(String(format: "%.0f–%.0f", s.syllablesInterval.low, s.syllablesInterval.high))) in \
                \(s.utterances.count) utterances; talk \(String(format: "%.1f", s.talkTimeSeconds)) s, 
                """
            out += "phonation \(String(format: "%.1f", s.phonationTimeSeconds)) s\n"
            func rate(_ x: Double?, _ i: Interval?) -> String {
                guard let x else { return "—" }
                return String(format: "%.0f", x)
                    + (i.map { String(format: " (90%%: %.0f–%.0f)", $0.low, $0.high) } ?? "")
            }
            out += "    speech rate \(rate(s.speechRateCharactersPerMinute, s.speechRateInterval)) 字/分钟, "
            out += "articulation rate \(rate(s.articulationRateCharactersPerMinute, s.articulationRateInterval)) 字/分钟, "
            out += "active level \(s.activeLevelDbov.map { String(format: "%.1f", $0) } ?? "—") dBov, "
            out += "median pitch \(s.medianF0Hz.map { String(format: "%.0f", $0) } ?? "—") Hz\n"
        }
        if call.interruptions != nil {
            for party in Party.allCases {
                let mine = call.interruptions(by: party) ?? []
                out += "  interruptions by the \(party.rawValue): \(mine.count)"
                if !mine.isEmpty { out += " (at " + mine.map { clock($0.atSeconds) }.joined(separator: ", ") + ")" }
                out += "\n"
            }
            let backchannels = call.backchannels ?? []
            out += "  backchannels (嗯, 对, 好的 inside the other's speech): \(backchannels.count)"
            if !backchannels.isEmpty {
                out +=
                    " (" + backchannels.map { "\($0.by.rawValue) at \(clock($0.atSeconds))" }.joined(separator: ", ")
                    + ")"
            }
            out += "\n"
        } else {
            out += "  interruptions: not measurable (mono)\n"
        }
        out += "  holds / dead air ≥ \(Verdict.trim(call.minimumHoldSeconds)) s: \(call.holds.count)"
        if !call.holds.isEmpty {
            out +=
                " (" + call.holds.map { "\(clock($0.startSeconds))–\(clock($0.endSeconds))" }.joined(separator: ", ")
                + ")"
        }
        out += "\n"
        return out
    }
}
