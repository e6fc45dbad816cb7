import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@testable import YusuDelivery

/// The rules of [8] (filled pauses, listening, opening, pitch range, level against the
/// customer) and the rule book they live in, on hand-made measures.
@Suite("Rules")
struct RuleTests {
    func span(_ a: Double, _ b: Double) -> TimeSpan { TimeSpan(startSeconds: a, endSeconds: b) }
    func utterance(_ a: Double, _ b: Double) -> Utterance {
        Utterance(startSeconds: a, endSeconds: b, syllables: Int((b - a) * 4))
    }

    func speaker(
        _ party: Party, _ utterances: [Utterance], talk: Double = 60, level: Double? = -26,
        fillers: [TimeSpan] = [], range: Double? = nil
    ) -> SpeakerMeasures {
        SpeakerMeasures(
            party: party, channel: party == .agent ? 0 : 1, syllables: 100, talkTimeSeconds: talk,
            phonationTimeSeconds: talk * 0.8,
            speechRateCharactersPerMinute: 110, articulationRateCharactersPerMinute: 130, activeLevelDbov: level,
            medianF0Hz: 200, utterances: utterances, turns: [], filledPauses: fillers, pitchRangeSemitones: range)
    }

    func call(agent: SpeakerMeasures, customer: SpeakerMeasures?) -> CallMeasures {
        CallMeasures(
            file: "x.wav", durationSeconds: 200, sampleRateHz: 8000, channels: customer == nil ? 1 : 2,
            formatName: "WAV",
            agent: agent, customer: customer, interruptions: customer == nil ? nil : [],
            backchannels: customer == nil ? nil : [], holds: [])
    }

    @Test("the rule book: unique ids and keys, default weights sum to 100, every rule judged")
    func book() {
        #expect(Set(RuleBook.ids).count == RuleBook.all.count)
        let keys = RuleBook.settingKeys
        #expect(Set(keys).count == keys.count)
        #expect(RuleBook.defaultWeights.values.reduce(0, +) == 100)
        #expect(RuleBook.defaultWeights["pitch_range"] == 0 && RuleBook.defaultWeights["level_vs_customer"] == 0)
        let card = Standard().evaluate(
            call(agent: speaker(.agent, [utterance(1, 4)]), customer: speaker(.customer, [utterance(5, 8)])))
        #expect(card.verdicts.map(\.rule) == RuleBook.ids)
    }

    @Test(
        """
        90% intervals: counting noise shrinks with the count, the systematic part stays; a limit inside the \
        interval is near
        """
    )
    func intervals() {
        let h = { (n: Int) in
            MeasureUncertainty.relativeHalfWidth(syllables: n, systematic: MeasureUncertainty.systematicSpeechRate)
        }
        // 1.645 √(0.0453² + 0.095 / 400) = 7.9%; a 20-syllable sentence ±13.6%; never under 1.645 σ.
        #expect(abs(h(400) - 0.0787) < 0.001 && abs(h(20) - 0.1357) < 0.002)
        #expect(h(100) > h(400) && h(1_000_000) > 1.645 * 0.0453 - 1e-6 && h(1_000_000) < 1.645 * 0.0453 + 1e-4)
        // Speech rate 116 with 400 syllables: 107–125, the 120 limit inside: passes, near the limit.
        var agent = speaker(.agent, [utterance(1, 4)])
        agent.syllables = 400
        agent.speechRateCharactersPerMinute = 116
        let near = SpeechRateRule().judge(call(agent: agent, customer: nil), in: Standard())
        #expect(near.passed == true && near.nearLimit, "\(near.valueText)")
        #expect(near.valueText == "116 字/分钟 (90%: 107–125)")
        // 150: fails for sure.
        agent.speechRateCharactersPerMinute = 150
        let sure = SpeechRateRule().judge(call(agent: agent, customer: nil), in: Standard())
        #expect(sure.passed == false && !sure.nearLimit)
        // Long utterances: 21 syllables is within counting error of 20; 30 is not.
        let long = { (n: Int) in
            LongUtterancesRule().judge(
                call(agent: speaker(.agent, [Utterance(startSeconds: 0, endSeconds: 5, syllables: n)]), customer: nil),
                in: Standard())
        }
        #expect(long(21).passed == false && long(21).nearLimit)
        #expect(long(30).passed == false && !long(30).nearLimit)
        #expect(long(19).passed == true && long(19).nearLimit && !long(12).nearLimit)
    }

    @Test("a limit admits its ends and nothing past them; a band rule passes exactly what its stated limit admits")
    func limitsJudge() {
        #expect(Limit.range(100, 120).admits(100) && Limit.range(100, 120).admits(120))
        #expect(!Limit.range(100, 120).admits(99.999) && !Limit.range(100, 120).admits(120.001))
        #expect(Limit.atMost(60).admits(60) && !Limit.atMost(60).admits(60.001))
        #expect(!Limit.range(100, 120).admits(.nan) && !Limit.atMost(60).admits(.nan))
        // The agent's level at, inside and just past each end of the default -35 to -15 dBov.
        for level in [-35.0, -25, -15, -35.01, -14.99] {
            let measures = call(agent: speaker(.agent, [], level: level), customer: nil)
            let v = AgentLevelRule().judge(measures, in: Standard())
            #expect(v.passed == v.limit.admits(level) && v.passed == (level >= -35 && level <= -15), "\(level)")
        }
    }

    @Test("a band rule without its measure is not measurable, and says why; with it, judged and shown by the rule")
    func bandMeasureMissing() {
        let silent = call(agent: speaker(.agent, [], level: nil), customer: speaker(.customer, [], level: -30))
        let level = AgentLevelRule().judge(silent, in: Standard())
        #expect(level.passed == nil && level.value == nil && level.reason == "the agent never speaks")
        let versus = LevelVsCustomerRule().judge(silent, in: Standard())
        #expect(versus.passed == nil && versus.reason == "one party never speaks")
        let flat = PitchRangeRule().judge(silent, in: Standard())
        #expect(flat.passed == nil && flat.reason == "too little voiced agent speech to measure")
        // Measured: the rule's own value text, and no reason.
        let loud = call(agent: speaker(.agent, [], level: -20, range: 40), customer: speaker(.customer, [], level: -30))
        let shown = LevelVsCustomerRule().judge(loud, in: Standard())
        #expect(shown.reason == nil && shown.value == 10 && shown.valueText == "agent 10.0 dB louder than the customer")
        let range = PitchRangeRule().judge(loud, in: Standard())
        #expect(range.passed == false && range.reason == nil && range.valueText.hasPrefix("40.0 st between"))
    }

    @Test("filled pauses: per minute of talk against the limit, each one evidence")
    func filledPauses() {
        let four = (0..<4).map { span(Double($0) * 10, Double($0) * 10 + 0.5) }
        let fail = FilledPausesRule().judge(
            call(agent: speaker(.agent, [utterance(0, 50)], talk: 60, fillers: four), customer: nil), in: Standard())
        #expect(
            fail.passed == false && fail.value == 4 && fail.evidence.count == 4 && fail.evidence[1].startSeconds == 10)
        let pass = FilledPausesRule().judge(
            call(agent: speaker(.agent, [utterance(0, 50)], talk: 120, fillers: four), customer: nil), in: Standard())
        #expect(pass.passed == true && pass.value == 2)
        var lenient = Standard()
        lenient[FilledPausesRule.self].maximumPerMinute = 5
        #expect(
            FilledPausesRule().judge(
                call(agent: speaker(.agent, [], talk: 60, fillers: four), customer: nil), in: lenient
            ).passed == true)
    }

    @Test("listening: judged on the analysis's floors: an unacknowledged one of 15 s or more fails")
    func listening() {
        let customer = speaker(.customer, [utterance(10, 30)])
        func judged(_ floors: [CustomerFloor]) -> Verdict {
            var measures = call(agent: speaker(.agent, [utterance(0, 9)]), customer: customer)
            measures.customerFloors = floors
            return ListeningRule().judge(measures, in: Standard())
        }
        let v = judged([CustomerFloor(span: span(10, 30), acknowledged: false)])
        #expect(v.passed == false && v.value == 1 && v.evidence.count == 1 && v.evidence[0].startSeconds == 10)
        #expect(v.evidence[0].endSeconds == 30 && v.valueText.hasPrefix("1 of 1 customer turn of 15 s"))
        #expect(judged([CustomerFloor(span: span(10, 30), acknowledged: true)]).passed == true)
        // Floors under 15 s leave the rule nothing to judge: not applicable, not a pass.
        let none = judged([CustomerFloor(span: span(10, 19), acknowledged: false)])
        #expect(none.passed == nil && none.reason?.hasPrefix("not applicable") == true)
        #expect(ListeningRule().judge(call(agent: customer, customer: nil), in: Standard()).passed == nil)
    }

    @Test("opening: the agent first, within the limit")
    func opening() {
        let customer = speaker(.customer, [utterance(4, 8)])
        let prompt = OpeningRule().judge(
            call(agent: speaker(.agent, [utterance(1.2, 3.5)]), customer: customer), in: Standard())
        #expect(prompt.passed == true && prompt.value == 1.2)
        let late = OpeningRule().judge(
            call(agent: speaker(.agent, [utterance(6.5, 9)]), customer: speaker(.customer, [utterance(10, 12)])),
            in: Standard())
        #expect(late.passed == false && late.evidence.first?.note.contains("6.5 s") == true)
        let second = OpeningRule().judge(
            call(agent: speaker(.agent, [utterance(3, 5)]), customer: speaker(.customer, [utterance(0.8, 2.5)])),
            in: Standard())
        #expect(second.passed == false && second.evidence.first?.note == "客户先开口 · the customer speaks first")
        #expect(OpeningRule().judge(call(agent: speaker(.agent, []), customer: customer), in: Standard()).passed == nil)
    }

    @Test("pitch range and level against the customer: measured and judged, weighing 0 unless switched on")
    func weightless() {
        let agent = speaker(.agent, [utterance(1, 4)], level: -20, range: 2.0)
        let customer = speaker(.customer, [utterance(5, 8)], level: -30)
        let card = Standard().evaluate(call(agent: agent, customer: customer))
        #expect(card.verdict("pitch_range")?.passed == false && card.verdict("pitch_range")?.value == 2.0)
        #expect(card.verdict("level_vs_customer")?.passed == false && card.verdict("level_vs_customer")?.value == 10)
        var on = Standard()
        on.weights["pitch_range"] = 10
        let weighted = on.evaluate(call(agent: agent, customer: customer))
        #expect((weighted.score ?? 0) < (card.score ?? 0))
    }

    @Test("a standard file sets the new limits; bad ones are refused by their rule")
    func settings() throws {
        let s = try Standard.decode(
            Data(
                (#"{"max_filled_pauses_per_min": 6, "listening_turn_s": 20, "max_opening_s": 3, "#
                    + #""weights": {"pitch_range": 5}}"#).utf8))
        #expect(
            s[FilledPausesRule.self].maximumPerMinute == 6 && s[ListeningRule.self].turnSeconds == 20
                && s[OpeningRule.self].maximumSeconds == 3
                && s.weights["pitch_range"] == 5)
        #expect(throws: Standard.LoadError.self) { try Standard.decode(Data(#"{"listening_turn_s": 1}"#.utf8)) }
        #expect(throws: Standard.LoadError.self) {
            try Standard.decode(Data(#"{"max_utterance_syllables": 2.5}"#.utf8))
        }
        // A round trip keeps every setting.
        let again = try Standard.decode(try JSONEncoder().encode(s))
        #expect(again == s)
    }
}

@Suite("Filled pauses")
struct FilledPauseTests {
    /// Syllables, a pause, a held level tone, a pause, syllables: one filled pause, where the tone is.
    @Test(
        """
        a held, level, steady tone between pauses is a filled pause, counted as one syllable; a tone glued to the \
        last syllable is not
        """
    )
    func heldTone() throws {
        let rate = 8000
        let train = Synth.syllableTrain(count: 6, f0Hz: 180, rateHz: rate)
        let hum = Synth.harmonicTone(
            seconds: 0.5, rateHz: rate, amplitude: 0.15, f0Hz: { t in 150 * pow(2, -t * 2 / 12) })
        var ramp = hum
        let fade = Int(0.02 * Double(rate))
        for i in 0..<fade {
            ramp[i] *= Float(i) / Float(fade)
            ramp[ramp.count - 1 - i] *= Float(i) / Float(fade)
        }
        let silence = [Float](repeating: 0, count: Int(0.3 * Double(rate)))
        let noise = Synth.noise(seconds: 4, rateHz: rate, rmsDbov: -60, seed: 5)
        var signal = train + silence + ramp + silence + train
        signal = Synth.mix(signal, noise + noise)
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("filler.wav"), channels: [signal], rateHz: rate)
        let m = try CallScorer().analyze(path: path).measures
        let start = Double(train.count + silence.count) / Double(rate)
        #expect(m.agent.filledPauses.count == 1, "\(m.agent.filledPauses)")
        if let f = m.agent.filledPauses.first {
            #expect(abs(f.startSeconds - start) < 0.1 && abs(f.endSeconds - (start + 0.5)) < 0.1)
        }
        // 12 tone bursts (outside the learned counter's speech: within 30%) and the filler.
        #expect(abs(m.agent.syllables - 13) <= 4, "\(m.agent.syllables) syllables")
        // The same tone straight after the last syllable, closing the utterance: a drawn-out
        // ending (好的～), not a filled pause.
        var glued = Synth.syllableTrain(count: 6, f0Hz: 150, rateHz: rate, leadSeconds: 0.3)
        glued.removeLast(Int(0.3 * Double(rate)) + Int(0.07 * Double(rate)))
        let held = glued + ramp + silence + silence
        let path2 = try writeRecording(
            dir.file("held.wav"),
            channels: [
                Synth.mix(
                    held, Synth.noise(seconds: Double(held.count) / Double(rate), rateHz: rate, rmsDbov: -60, seed: 6))
            ], rateHz: rate)
        #expect(try CallScorer().analyze(path: path2).measures.agent.filledPauses.isEmpty)
    }

    @Test("syllables alone hold no filled pause")
    func syllablesOnly() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(
            dir.file("train.wav"), channels: [Synth.syllableTrain(count: 20, f0Hz: 170)], rateHz: 8000)
        #expect(try CallScorer().analyze(path: path).measures.agent.filledPauses.isEmpty)
    }
}

@Suite("Backchannels")
struct BackchannelTests {
    @Test(
        """
        the tail of the agent's own sentence after the customer talked over it is not a backchannel; a 嗯 inside \
        the customer's sentence is
        """
    )
    func tailIsNotBackchannel() {
        // The agent speaks 24.3-27.0; the customer starts over them at 26.8; the agent's
        // last word, after a 0.55 s pause, lands inside the customer's sentence.
        let tail = TimelineReplay(agent: [(24.3, 26.97), (27.52, 27.83)], customer: [(26.8, 30.6)]).timeline
        #expect(tail.backchannels.isEmpty, "\(tail.backchannels)")
        let nod = TimelineReplay(agent: [(10, 14), (18.2, 18.6)], customer: [(15, 21)]).timeline
        #expect(nod.backchannels.map { ($0.atSeconds * 100).rounded() } == [1820])
    }
}
