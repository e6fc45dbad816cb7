import Foundation
import Testing
import YusuDelivery
import YusuReport
import YusuSignal
import YusuTestSupport

@Suite("Reports")
struct ReportTests {
    /// A 6 s call: the agent's `agentSyllables` from 0.2 s, the customer's 8 from 3.5 s.
    static func analysis(
        mono: Bool = false, agentSyllables: Int = 10, settings: AnalysisSettings = AnalysisSettings()
    ) throws -> (CallAnalysis, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let rate = 8000
        let agent = Synth.mix(
            Synth.place(Synth.syllableTrain(count: agentSyllables), atSeconds: 0.2, totalSeconds: 6, rateHz: rate),
            Synth.noise(seconds: 6, rateHz: rate, rmsDbov: -60, seed: 1))
        let customer = Synth.mix(
            Synth.place(Synth.syllableTrain(count: 8, f0Hz: 120), atSeconds: 3.5, totalSeconds: 6, rateHz: rate),
            Synth.noise(seconds: 6, rateHz: rate, rmsDbov: -60, seed: 2))
        let path = try writeRecording(dir.file("r.wav"), channels: mono ? [agent] : [agent, customer], rateHz: rate)
        return (try CallScorer(settings: settings).analyze(path: path), dir)
    }

    @Test("JSON follows CONTRACT.md: names, units and nulls")
    func json() throws {
        let (a, _) = try Self.analysis()
        let card = Standard().evaluate(a.measures)
        let doc =
            try JSONSerialization.jsonObject(with: Data(try JSONReport.render(a.measures, card).utf8)) as! [String: Any]
        #expect(doc["file"] as? String == "r.wav")
        #expect(abs((doc["duration_s"] as? Double ?? 0) - 6) < 0.01)
        #expect(doc["sample_rate_hz"] as? Int == 8000 && doc["channels"] as? Int == 2)
        let speakers = doc["speakers"] as! [String: Any]
        let agent = speakers["agent"] as! [String: Any]
        for key in [
            "channel", "syllables", "talk_time_s", "phonation_time_s", "speech_rate_cpm", "articulation_rate_cpm",
            "active_level_dbov", "utterances",
        ] {
            #expect(agent[key] != nil, "agent.\(key) missing")
        }
        #expect(agent["syllables"] as? Int == a.measures.agent.syllables)
        let utterances = agent["utterances"] as! [[String: Any]]
        #expect(utterances.count == a.measures.agent.utterances.count)
        for u in utterances {
            for key in ["start_s", "end_s", "syllables", "falling_ending", "final_drop_st"] {
                #expect(u.keys.contains(key), "utterance.\(key)")
            }
        }
        #expect(speakers["customer"] is [String: Any])
        #expect(doc["interruptions"] is [Any] && doc["holds"] is [Any])
        let verdicts = doc["verdicts"] as! [[String: Any]]
        #expect(verdicts.map { $0["rule"] as? String } == RuleBook.ids)
        #expect(
            verdicts.allSatisfy { $0.keys.contains("passed") && $0.keys.contains("value") && $0.keys.contains("limit") }
        )
        #expect(abs((doc["score"] as? Double ?? -1) - (card.score ?? -2)) < 0.06)
    }

    @Test("JSON for mono: customer and interruptions are null, not missing or zero")
    func monoJSON() throws {
        let (a, _) = try Self.analysis(mono: true)
        let text = try JSONReport.render(a.measures, Standard().evaluate(a.measures))
        let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect((doc["speakers"] as! [String: Any])["customer"] is NSNull)
        #expect(doc["interruptions"] is NSNull)
        let v = (doc["verdicts"] as! [[String: Any]]).first { $0["rule"] as? String == "agent_interruptions" }!
        #expect(v["passed"] is NSNull)
    }

    @Test("the hold threshold shown is the one the analysis used: the text report and the holds verdict")
    func holdThresholdShown() throws {
        let (a, _) = try Self.analysis()
        // The default: the synthetic call's silences are all under 10 s.
        #expect(a.measures.minimumHoldSeconds == 10 && a.measures.holds.isEmpty)
        #expect(TextReport.render(a.measures, Standard().evaluate(a.measures)).contains("holds / dead air ≥ 10 s: 0"))
        // The same call with the agent's turn cut to 4 syllables, analysed with holds from
        // 2 s: the silence before the customer (about 2.4 s) is one, and every report of it
        // names 2 s, not the default.
        var settings = AnalysisSettings()
        settings.delivery.minimumHoldSeconds = 2
        let (short, _) = try Self.analysis(agentSyllables: 4, settings: settings)
        let measures = short.measures
        #expect(measures.minimumHoldSeconds == 2)
        #expect(measures.holds.count >= 1)
        let text = TextReport.render(measures, Standard().evaluate(measures))
        #expect(text.contains("holds / dead air ≥ 2 s: \(measures.holds.count)"))
        var quiet = measures
        quiet.holds = []
        let holds = Standard().evaluate(quiet).verdicts.first { $0.rule == "holds" }
        #expect(holds?.valueText == "no hold or dead air of 2 s or more")
    }

    @Test("text puts verdicts first with Chinese and English rule names")
    func text() throws {
        let (a, _) = try Self.analysis()
        let card = Standard().evaluate(a.measures)
        let text = TextReport.render(a.measures, card)
        for rule in RuleBook.all {
            #expect(text.contains(rule.chineseName) && text.contains(rule.englishName))
        }
        let firstVerdict = text.range(of: SpeechRateRule().chineseName)!.lowerBound
        let measures = text.range(of: "Measures")!.lowerBound
        #expect(firstVerdict < measures)
        #expect(text.contains(String(format: "Score %.1f / 100", card.score ?? -1)))
        #expect(TextReport.clock(83.25) == "1:23.2" || TextReport.clock(83.25) == "1:23.3")
        // Rounded before it is split: never "0:60.0".
        #expect(
            TextReport.clock(59.97) == "1:00.0" && TextReport.clock(119.96) == "2:00.0"
                && TextReport.clock(0.04) == "0:00.0")
    }

    @Test("frames CSV: header, one row per frame and channel, frame-centre times")
    func frames() throws {
        let dir = TemporaryDirectory()
        let (path, _) = try writeInterruptedCall(in: dir)
        final class Text: @unchecked Sendable { var value = "" }
        let out = Text()
        let csv = FramesCSV { out.value += $0 }
        _ = try CallScorer().analyze(path: path) { stream in
            stream.frameSink = { t, c, e, s, f in csv.row(timeSeconds: t, channel: c, energyDb: e, speech: s, f0Hz: f) }
        }
        csv.flush()
        let lines = out.value.split(separator: "\n")
        #expect(lines.first == "time_s,channel,energy_db,speech,f0_hz")
        #expect(lines.count == 1 + 2 * 3000)
        // Every frame of each channel once, in time order per channel, at its centre.
        for channel in ["0", "1"] {
            let times = lines.dropFirst().filter { $0.split(separator: ",")[1] == channel }.map {
                Double($0.split(separator: ",")[0])!
            }
            #expect(
                times.count == 3000 && times.first == 0.005
                    && zip(times, times.dropFirst()).allSatisfy { abs($1 - $0 - 0.01) < 1e-6 })
        }
        let speechRows = lines.dropFirst().filter { $0.split(separator: ",")[3] == "1" }
        #expect(speechRows.count > 500)
    }
}

@Suite("JSON string literals written by hand")
struct JSONTextTests {
    func quoted(_ s: String, markup: Bool) -> String {
        var out: [UInt8] = []
        JSONText.appendQuoted(s, to: &out, escapingMarkup: markup)
        return String(decoding: out, as: UTF8.self)
    }

    @Test(
        """
        quotes, backslashes and control characters escaped; markup and line separators too when asked; each reads \
        back as the text
        """
    )
    func literals() throws {
        let text = "a\"b\\c\n\u{1}<&>\u{2028}\u{2029}…中"
        let plain = quoted(text, markup: false)
        #expect(plain == "\"a\\\"b\\\\c\\n\\u0001<&>\u{2028}\u{2029}…中\"")
        let safe = quoted(text, markup: true)
        #expect(safe == "\"a\\\"b\\\\c\\n\\u0001\\u003c\\u0026\\u003e\\u2028\\u2029…中\"")
        for literal in [plain, safe] {
            #expect(
                try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed) as? String
                    == text)
        }
    }
}
