import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@testable import YusuDelivery

@Suite("The call's timeline: turns, holds, interruptions, backchannels, floors")
struct TimelineTests {
    func span(_ a: Double, _ b: Double) -> TimeSpan { TimeSpan(startSeconds: a, endSeconds: b) }
    func near(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-6 } ?? false }
    func near(_ a: [TimeSpan], _ b: [TimeSpan]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { near($0.startSeconds, $1.startSeconds) && near($0.endSeconds, $1.endSeconds) }
    }

    @Test("a turn bridges pauses under 1.5 s, but not one the other party starts in")
    func turns() {
        let r = TimelineReplay(agent: [(0, 2), (3, 5), (6, 8)], customer: [(5.2, 5.8)]).timeline
        #expect(near(r.turns[0], [span(0, 5), span(6, 8)]), "\(r.turns[0])")
        let alone = TimelineReplay(agent: [(0, 1), (1.2, 2), (3, 4)]).timeline
        #expect(near(alone.turns[0], [span(0, 4)]), "\(alone.turns[0])")
    }

    @Test("silences of 10 s or more between everyone's speech are holds, the call's end among them")
    func holds() {
        let r = TimelineReplay(agent: [(0, 5), (35, 40)], customer: [(3, 20), (41, 45)], duration: 60).timeline
        #expect(near(r.holds, [span(20, 35), span(45, 60)]), "\(r.holds)")
    }

    @Test("the agent starting 1.2 s before the customer ends, and going on, interrupts")
    func interruption() {
        let r = TimelineReplay(agent: [(0, 3), (8.8, 12)], customer: [(3.5, 10)]).timeline
        #expect(r.interruptions.count == 1 && r.interruptions.first?.by == .agent)
        #expect(near(r.interruptions.first?.atSeconds, 8.8) && near(r.interruptions.first?.overlapSeconds, 1.2))
    }

    @Test("a 0.4 s 嗯 inside the customer's sentence is a backchannel, not an interruption")
    func backchannel() {
        let r = TimelineReplay(agent: [(5, 5.4)], customer: [(3, 9)]).timeline
        #expect(r.interruptions.isEmpty)
        #expect(r.backchannels.count == 1 && r.backchannels[0].by == .agent && near(r.backchannels[0].atSeconds, 5))
    }

    @Test("latching (0.2 s overlap at a turn change) is neither")
    func latching() {
        let r = TimelineReplay(agent: [(0, 3)], customer: [(2.8, 6)]).timeline
        #expect(r.interruptions.isEmpty && r.backchannels.isEmpty)
    }

    @Test("a breath inside the customer's sentence is still the customer's floor")
    func hostPause() {
        // Corpus case: the customer pauses 0.55 s mid-sentence; the agent starts 0.15 s
        // before the first part ends and talks on through the second.
        let r = TimelineReplay(agent: [(26.82, 30.6)], customer: [(24.3, 26.97), (27.52, 27.83)]).timeline
        #expect(r.interruptions.map(\.by) == [.agent])
        #expect(near(r.interruptions.first?.overlapSeconds, 1.01), "\(r.interruptions)")
    }

    @Test("the customer cutting in is the customer's interruption")
    func customer() {
        let r = TimelineReplay(agent: [(0, 6)], customer: [(4.5, 8)]).timeline
        #expect(r.interruptions.map(\.by) == [.customer])
    }

    @Test(
        """
        the customer's floor: joined over their pauses under 3 s, ended by an agent reply in a pause; an agent \
        start inside acknowledges it, a reply latched onto its last 0.5 s does not
        """)
    func floors() {
        let customer = [(10.0, 14.0), (15, 19), (21, 24), (24.5, 27), (28, 30)]
        let silent = TimelineReplay(agent: [(0, 9), (29.8, 33)], customer: customer).timeline
        #expect(silent.floors.count == 1 && near([silent.floors[0].span], [span(10, 30)]), "\(silent.floors)")
        #expect(silent.floors.first?.acknowledged == false)
        let nodding = TimelineReplay(agent: [(0, 9), (17, 17.4), (29.8, 33)], customer: customer).timeline
        #expect(nodding.floors.count == 1 && nodding.floors.first?.acknowledged == true)
        // A reply in a pause ends the floor: two floors, 10–19 and 21–30 s.
        let answering = TimelineReplay(agent: [(0, 9), (19.5, 20.5), (30.5, 33)], customer: customer).timeline
        #expect(near(answering.floors.map(\.span), [span(10, 19), span(21, 30)]), "\(answering.floors)")
        // A pause of 3 s or more ends it too, reply or not.
        let apart = TimelineReplay(agent: [(0, 5)], customer: [(6, 10), (13.5, 16)]).timeline
        #expect(apart.floors.count == 2)
        // Mono: no floors at all.
        #expect(TimelineReplay(agent: [(0, 5)]).timeline.floors.isEmpty)
    }
}

@Suite("Final intonation")
struct IntonationTests {
    let intonation = FinalIntonation(config: DeliveryConfig())

    /// The rule's judgement of a measured ending, with its default settings.
    func sinks(_ e: FinalIntonation.Ending?, _ settings: FallingEndingsRule.Settings = .init()) -> Bool? {
        e.map {
            FallingEndingsRule().isSinking(
                dropSemitones: $0.dropSemitones, endRelativeToRegisterSemitones: $0.endRelativeToMedianSemitones,
                settings)
        }
    }

    /// 1 s of voicing at the median, then 0.4 s ending as `ending(t)` semitones.
    func contour(_ ending: (Double) -> Double) -> [Float] {
        (0..<140).map { i in
            let st = i < 100 ? 0 : ending(Double(i - 100) / 40)
            return Float(200 * pow(2, st / 12))
        }
    }

    @Test("a 5-semitone fall ending 4 below the median sinks")
    func falling() {
        let e = intonation.measure(f0Hz: contour { 1 - 5 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(sinks(e) == true)
        #expect(abs(e.dropSemitones - 5 * 0.75) < 0.6)
    }

    @Test("an ending low throughout sinks even when its glide is mostly lost")
    func lowEnding() {
        // Corpus case: the tracker loses the creaky start of the glide; what remains sits
        // 5 semitones under the register, falling only half a semitone.
        let e = intonation.measure(
            f0Hz: contour { -4.5 - 0.5 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(sinks(e) == true)
    }

    @Test(
        """
        a low end without a fall does not sink (unseen voices' false alarms: drop 0.02–0.93 st, end 1.1–2.4 st \
        under the median)
        """
    )
    func lowWithoutFall() {
        // 1 s at -1.5 st, then an ending level at -2.2 st: low, but it does not fall.
        let f0: [Float] = (0..<140).map { i in
            Float(200 * pow(2, (i < 100 ? -1.5 : -2.2 + 0.3 * Double(i - 100) / 40) / 12))
        }
        let e = intonation.measure(f0Hz: f0, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(e.endRelativeToMedianSemitones < -1.9 && e.dropSemitones < 1, "\(e)")
        #expect(sinks(e) == false)
        // A 4.5 st glide from above the register to the same depth does.
        let glide: [Float] = (0..<140).map { i in
            Float(200 * pow(2, (i < 100 ? 0 : 1.5 - 4.5 * Double(i - 100) / 40) / 12))
        }
        #expect(sinks(intonation.measure(f0Hz: glide, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)) == true)
    }

    @Test("sustained and rising endings do not sink")
    func notFalling() {
        #expect(
            sinks(intonation.measure(f0Hz: contour { _ in 0.2 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01))
                == false)
        #expect(
            sinks(intonation.measure(f0Hz: contour { 2 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01))
                == false)
    }

    @Test("a fall that stays above the speaker's register does not sink")
    func highFall() {
        #expect(
            sinks(intonation.measure(f0Hz: contour { 6 - 4 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01))
                == false)
    }

    @Test("a sinking ending that keeps only 50 ms of voicing is still judged")
    func shortVoicedEnding() {
        // Corpus case: the glide turns creaky and unvoiced; five voiced frames 5 st under
        // the register remain after a 0.26 s gap.
        var f0 = contour { _ in 0 }
        for i in 100..<140 { f0[i] = 0 }
        for i in 126..<131 { f0[i] = Float(200 * pow(2, -5.0 / 12)) }
        let e = intonation.measure(f0Hz: f0, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)
        #expect(sinks(e) == true)
        // Three frames are too few to say anything.
        for i in 126..<128 { f0[i] = 0 }
        #expect(intonation.measure(f0Hz: f0, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01) == nil)
    }

    @Test("a steep fall that ends barely under the register is a fall inside the voice, not a sinking ending")
    func steepFallEndingJustBelow() {
        // A 9-semitone glide from 8 st above the median ends 1.5 st under it: it falls, but
        // its end is not low for this speaker (a sinking ending finishes 2 st or more under).
        let fall = intonation.measure(
            f0Hz: contour { 8 - 11 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(fall.dropSemitones > 5 && sinks(fall) == false, "\(fall)")
        // The same glide from 5 st above ends 4.5 st under: it sinks.
        #expect(
            sinks(intonation.measure(f0Hz: contour { 5 - 11 * $0 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01))
                == true)
        // A sustained ending 0.7 st under the register does not.
        #expect(
            sinks(intonation.measure(f0Hz: contour { _ in -0.7 }, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01))
                == false)
    }

    @Test("a last syllable said low after a higher word falls from that word: a real fall")
    func fallFromPrecedingWord() {
        // 1 s at 3 st over the register, a 0.2 s unvoiced consonant, then 60 ms at -2.5 st:
        // the stretch itself is level, the fall into it is 5.5 st.
        var f0 = [Float](repeating: 0, count: 126)
        for i in 0..<100 { f0[i] = Float(200 * pow(2, 3.0 / 12)) }
        for i in 120..<126 { f0[i] = Float(200 * pow(2, -2.5 / 12)) }
        let e = intonation.measure(f0Hz: f0, frames: 0..<126, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(abs(e.dropSemitones - 5.5) < 0.2 && abs(e.endRelativeToMedianSemitones + 2.5) < 0.1, "\(e)")
        #expect(sinks(e) == true)
        // The same low syllable after a word at its own level: no fall, no sinking.
        for i in 0..<100 { f0[i] = Float(200 * pow(2, -2.5 / 12)) }
        let level = intonation.measure(f0Hz: f0, frames: 0..<126, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(abs(level.dropSemitones) < 0.2 && sinks(level) == false, "\(level)")
    }

    @Test("no voiced ending, no decision")
    func unvoiced() {
        #expect(
            intonation.measure(
                f0Hz: [Float](repeating: 0, count: 100), frames: 0..<100, medianF0Hz: 200, hopSeconds: 0.01) == nil)
    }
}

@Suite("The standard")
struct StandardTests {
    @Test("defaults are the service norms and valid")
    func defaults() {
        let s = Standard()
        #expect(
            s[SpeechRateRule.self].minimumCharactersPerMinute == 100
                && s[SpeechRateRule.self].maximumCharactersPerMinute == 120)
        #expect(
            s[HoldsRule.self].maximumSeconds == 60 && s[LongUtterancesRule.self].maximumSyllables == 20
                && s[AgentInterruptionsRule.self].maximumCount == 0)
        #expect(s[CallDurationRule.self].minimumSeconds == 180 && s[CallDurationRule.self].maximumSeconds == 300)
        #expect(s.problems().isEmpty)
        #expect(s.weights.values.reduce(0, +) == 100)
    }

    @Test("a file overrides some keys and keeps the rest")
    func overrides() throws {
        let s = try Standard.decode(
            Data(#"{"speech_rate_min_cpm": 90, "speech_rate_max_cpm": 130, "weights": {"holds": 0}}"#.utf8))
        #expect(
            s[SpeechRateRule.self].minimumCharactersPerMinute == 90
                && s[SpeechRateRule.self].maximumCharactersPerMinute == 130)
        #expect(s.weights["holds"] == 0 && s.weights["speech_rate"] == 20)
        #expect(s[HoldsRule.self].maximumSeconds == 60)
    }

    @Test("the standard, not the analysis, says how far an ending must fall and how low it must end to sink")
    func sinkingDepth() throws {
        #expect(
            Standard()[FallingEndingsRule.self].belowRegisterSemitones == 2
                && Standard()[FallingEndingsRule.self].minimumFallSemitones == 2.5)
        #expect(Standard()[FallingEndingsRule.self].maximumShare == 0.3)
        let deep = try Standard.decode(Data(#"{"sinking_ending_below_register_st": 4}"#.utf8))
        let steep = try Standard.decode(Data(#"{"sinking_ending_min_fall_st": 4}"#.utf8))
        // A 3.5 st glide ending 3 st under the register sinks by default, not under a standard
        // that asks 4 st under the register, nor under one that asks a 4 st fall; the measure
        // is the same under all three.
        let f0: [Float] = (0..<140).map { i in
            Float(200 * pow(2, (i < 100 ? 0.5 : 0.5 - 3.5 * Double(min(i, 130) - 100) / 30) / 12))
        }
        let ending = FinalIntonation(config: DeliveryConfig()).measure(
            f0Hz: f0, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        let u = Utterance(
            startSeconds: 0, endSeconds: 1.4, syllables: 5, finalDropSemitones: ending.dropSemitones,
            endRelativeToMedianSemitones: ending.endRelativeToMedianSemitones, endingSpan: ending.span)
        #expect(ending.endRelativeToMedianSemitones < -2.5 && ending.dropSemitones > 3, "\(ending)")
        #expect(FallingEndingsRule().judge(u, Standard()[FallingEndingsRule.self]) == true)
        #expect(FallingEndingsRule().judge(u, deep[FallingEndingsRule.self]) == false)
        #expect(FallingEndingsRule().judge(u, steep[FallingEndingsRule.self]) == false)
    }

    @Test("a standard's size is bounded: a long name, a large file")
    func bounded() throws {
        let longName = "{\"name\": \"" + String(repeating: "x", count: 200) + "\"}"
        #expect(throws: Standard.LoadError.self) { try Standard.decode(Data(longName.utf8)) }
        do { _ = try Standard.decode(Data(longName.utf8)) } catch let error as Standard.LoadError {
            #expect(error.description.contains("name is 200 characters long; at most 100"), "\(error)")
        }
        let huge = "{\"name\": \"" + String(repeating: "x", count: 70_000) + "\"}"
        do {
            _ = try Standard.decode(Data(huge.utf8))
            Issue.record("accepted a 70 kB standard")
        } catch let error as Standard.LoadError {
            #expect(error.description.contains("a standard is at most 64 KiB"), "\(error)")
        }
        // The name and version a file gives survive; a round trip keeps every setting.
        let named = try Standard.decode(Data(#"{"name": "retail-hotline", "version": 2, "max_hold_s": 90}"#.utf8))
        #expect(named.name == "retail-hotline" && named.version == 2 && named[HoldsRule.self].maximumSeconds == 90)
        #expect(try Standard.decode(JSONEncoder().encode(named)) == named)
    }

    @Test(
        "unknown keys, wrong types and bad values are rejected with the reason",
        arguments: [
            (#"{"speech_rate_minimum": 90}"#, "unknown key \"speech_rate_minimum\""),
            (#"{"speech_rate_min_cpm": "fast"}"#, "speech_rate_min_cpm"),
            (#"{"speech_rate_min_cpm": 150}"#, "below speech_rate_max_cpm"),
            (#"{"max_falling_ending_share": 1.5}"#, "max_falling_ending_share"),
            (#"{"sinking_ending_below_register_st": -1}"#, "sinking_ending_below_register_st"),
            (#"{"weights": {"loudness": 3}}"#, "unknown rule \"loudness\""),
            (#"[1, 2]"#, "expected a JSON object"),
            (#"{"#, "not valid JSON"),
            // [10]: every message names its key; what JSON readers disagree on is refused.
            (#"{"max_agent_interruptions": 1.5}"#, "max_agent_interruptions: expected a whole number, got 1.5"),
            (
                #"{"max_agent_interruptions": 1234567890123456789012345}"#,
                "max_agent_interruptions: 1234567890123456789012345 has more digits"
            ),
            (#"{"max_hold_s": 30, "max_hold_s": 90}"#, "duplicate key \"max_hold_s\" on line 1"),
            (#"{"weights": {"holds": 5, "holds": 0}}"#, "duplicate key \"holds\""),
            (#"{"speech_rate_max_cmp": 140}"#, "unknown key \"speech_rate_max_cmp\""),
            (#"{"weights": {"holds": "x"}}"#, "weights.holds: expected a number, got x"),
            (#"{"version": 0}"#, "version (0) must be between 1 and 1000000"),
            (#"{"name": "a\nb"}"#, "name must be a non-empty line of text"),
            // Each key's range is declared with it, and the message says it.
            (#"{"max_hold_s": 5}"#, "max_hold_s (5) must be from 10 to 86400 s (holds are silences of 10 s or more)"),
            (#"{"max_opening_s": 0}"#, "max_opening_s (0) must be above 0 and at most 3600 s"),
            (#"{"speech_rate_max_cpm": 1200}"#, "speech_rate_max_cpm (1200) must be above 0 and at most 1000 字/分钟"),
            (#"{"max_agent_interruptions": -1}"#, "max_agent_interruptions (-1) must be from 0 to 10000"),
            (
                #"{"agent_level_min_dbov": -10, "agent_level_max_dbov": -20}"#,
                "agent_level_min_dbov (-10) must be below"
            ),
        ])
    func rejects(json: String, reason: String) {
        do {
            _ = try Standard.decode(Data(json.utf8), path: "s.json")
            Issue.record("accepted \(json)")
        } catch let error as Standard.LoadError {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(error.description.hasPrefix("s.json: invalid standard"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("every setting of every rule has a range: far outside it is refused, naming the key")
    func everySettingHasARange() throws {
        for rule in RuleBook.all {
            for key in rule.settingKeys {
                for far in ["-1000000000", "1000000000"] {
                    do {
                        _ = try Standard.decode(Data(#"{"\#(key)": \#(far)}"#.utf8))
                        Issue.record("\(key) accepted \(far)")
                    } catch let error as Standard.LoadError {
                        #expect(error.description.contains("\(key) (\(far)) must be "), "\(error.description)")
                    }
                }
            }
        }
        // The defaults are inside their ranges, and the band rules' minimum sits at its bound.
        #expect(Standard().problems().isEmpty)
        let atBounds = try Standard.decode(Data(#"{"call_duration_min_s": 0, "max_hold_s": 86400}"#.utf8))
        #expect(atBounds[CallDurationRule.self].minimumSeconds == 0 && atBounds[HoldsRule.self].maximumSeconds == 86400)
    }

    func measures(rate: Double?, interruptions: [Interruption]?, holds: [TimeSpan] = [], utterances: [Utterance] = [])
        -> CallMeasures
    {
        let agent = SpeakerMeasures(
            party: .agent, channel: 0, syllables: 100, talkTimeSeconds: 60, phonationTimeSeconds: 50,
            speechRateCharactersPerMinute: rate, articulationRateCharactersPerMinute: 120, activeLevelDbov: -26,
            medianF0Hz: 200, utterances: utterances, turns: [])
        return CallMeasures(
            file: "x.wav", durationSeconds: 200, sampleRateHz: 8000, channels: interruptions == nil ? 1 : 2,
            formatName: "WAV",
            agent: agent, customer: nil, interruptions: interruptions, backchannels: interruptions == nil ? nil : [],
            holds: holds)
    }

    @Test("verdicts compare each measure with its limit and carry evidence")
    func verdicts() {
        let falling = Utterance(
            startSeconds: 10, endSeconds: 12, syllables: 25, finalDropSemitones: 5, endRelativeToMedianSemitones: -4,
            endingSpan: TimeSpan(startSeconds: 11.6, endSeconds: 12))
        let level = Utterance(
            startSeconds: 20, endSeconds: 22, syllables: 8, finalDropSemitones: 0, endRelativeToMedianSemitones: 0,
            endingSpan: nil)
        let card = Standard().evaluate(
            measures(
                rate: 110, interruptions: [Interruption(by: .agent, atSeconds: 30, overlapSeconds: 1)],
                holds: [TimeSpan(startSeconds: 50, endSeconds: 125)], utterances: [falling, level]))
        let byRule = Dictionary(uniqueKeysWithValues: card.verdicts.map { ($0.rule, $0) })
        #expect(byRule["speech_rate"]?.passed == true)
        #expect(byRule["falling_endings"]?.passed == false && byRule["falling_endings"]?.value == 0.5)
        #expect(byRule["falling_endings"]?.evidence.first?.startSeconds == 11.6)
        #expect(
            byRule["agent_interruptions"]?.passed == false
                && byRule["agent_interruptions"]?.evidence.first?.startSeconds == 30)
        #expect(byRule["holds"]?.passed == false && byRule["holds"]?.value == 75)
        #expect(
            byRule["long_utterances"]?.passed == false
                && byRule["long_utterances"]?.evidence.first?.note == "单句 25 字 · 25 syllables")
        #expect(byRule["call_duration"]?.passed == true && byRule["agent_level"]?.passed == true)
        // Passed: speech rate 20, duration 5, level 10, filled pauses 10 (none) of the measurable
        // 95 (listening needs a customer; the opening at 10 s fails; pitch range weighs 0).
        #expect(byRule["opening"]?.passed == false && byRule["listening"]?.passed == nil)
        #expect(abs((card.score ?? 0) - 45.0 / 95.0 * 100) < 1e-9)
    }

    @Test("mono: interruptions are not measurable and leave the score, not counted as 0")
    func mono() {
        let card = Standard().evaluate(measures(rate: 110, interruptions: nil))
        let v = card.verdicts.first { $0.rule == "agent_interruptions" }!
        #expect(v.passed == nil && v.value == nil && v.reason != nil)
        // No measured endings either: both leave the score; all else passes.
        #expect(card.score == 100)
    }
}

@Suite("What a person is shown of an ending")
struct ShownEndingTests {
    @Test("an octave error in a synthetic ending of known fall is judged as measured, and printed as no number")
    func octaveError() {
        let intonation = FinalIntonation(config: DeliveryConfig())
        // 1 s at the median (200 Hz), then a 0.4 s ending falling 5 st; the tracker halves
        // the last 0.15 s of it (creak): 12 st lower than the voice.
        let f0: [Float] = (0..<140).map { i in
            let st = i < 100 ? 0 : -5 * Double(i - 100) / 40
            let halved = i >= 125
            return Float(200 * pow(2, st / 12) / (halved ? 2 : 1))
        }
        let measured = intonation.measure(f0Hz: f0, frames: 0..<140, medianF0Hz: 200, hopSeconds: 0.01)!
        #expect(measured.dropSemitones > 12, "the tracker's jump is in the measure: \(measured.dropSemitones)")
        #expect(measured.endRelativeToMedianSemitones < -9, "and in the end: \(measured.endRelativeToMedianSemitones)")
        // The judgement keeps the measure: a sinking ending.
        #expect(
            FallingEndingsRule().isSinking(
                dropSemitones: measured.dropSemitones,
                endRelativeToRegisterSemitones: measured.endRelativeToMedianSemitones, FallingEndingsRule.Settings()))
        let shown = ShownEnding(
            dropSemitones: measured.dropSemitones, endRelativeToMedianSemitones: measured.endRelativeToMedianSemitones)
        #expect(shown.octaveJump && shown.dropSemitones == nil && shown.endRelativeToMedianSemitones == nil)
        // Said in words: a fall into creak whose size is not measured, and no number at all.
        #expect(shown.note.hasPrefix("句尾降入嘎裂声") && shown.note.contains("jumped an octave"), "\(shown.note)")
        #expect(shown.note.firstMatch(of: /[0-9]/) == nil, "\(shown.note)")
        // A fall from a doubled word onto a level end: the end as it was, the fall not shown.
        let doubled = ShownEnding(dropSemitones: 22.8, endRelativeToMedianSemitones: -2.3)
        #expect(doubled.octaveJump && doubled.dropSemitones == nil && doubled.endRelativeToMedianSemitones == -2.3)
        #expect(
            doubled.note
                == "收尾低于音域中线 2.3 半音 (降幅未测: 音高跟踪在句尾前跳了八度) · ends 2.3 st below the agent's register "
                + "(the fall is not measured: the pitch tracker jumped an octave before the end)")
        // A plausible ending is shown as measured.
        let plain = ShownEnding(dropSemitones: 5, endRelativeToMedianSemitones: -4)
        #expect(
            !plain.octaveJump
                && plain.note
                    == "句尾音高下降 5.0 半音, 收尾低于音域中线 4.0 半音 · pitch falls 5.0 st into the end and ends 4.0 st "
                    + "below the agent's register"
        )
        // The call page's label of where an ending ended: Chinese first too, and no number at a jump.
        #expect(plain.endLabel == "收尾低于音域中线 4.0 半音 · ends 4.0 st below the register")
        #expect(shown.endLabel.hasPrefix("降入嘎裂声 (") && shown.endLabel.firstMatch(of: /[0-9]/) == nil)
        #expect(doubled.endLabel.hasPrefix("收尾低于音域中线 2.3 半音 (音高跟踪跳了八度, 降幅未测) · ends 2.3 st below"))
        // Chinese first, in plain words (半音, 音域), then the English.
        #expect(
            ShownEnding(dropSemitones: 0.2, endRelativeToMedianSemitones: 1).note
                == "句尾音高平, 收尾高于音域中线 1.0 半音 · pitch level into the end and ends 1.0 st above the agent's register")
    }
}
