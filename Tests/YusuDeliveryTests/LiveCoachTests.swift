import Foundation
import Testing
import YusuTestSupport

@testable import YusuDelivery

@Suite("The live coach: alerts from events, against the standard")
struct LiveCoachTests {
    @Test("the line types and alert kinds are the published schema's (schema/live.v1.schema.json), no more, no fewer")
    func kindsAreTheSchemas() throws {
        let url = URL(fileURLWithPath: fixturesDirectory() + "/../schema/live.v1.schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let types = ((schema["properties"] as? [String: Any])?["type"] as? [String: Any])?["enum"] as? [String]
        #expect(types == LiveLineType.allCases.map(\.rawValue) + ["summary"])
        // Every alert branch's `kind`, a const or an enum.
        var kinds: [String] = []
        func collect(_ node: Any) {
            if let object = node as? [String: Any] {
                if let kind = (object["properties"] as? [String: Any])?["kind"] as? [String: Any] {
                    kinds += (kind["enum"] as? [String]) ?? [kind["const"] as? String].compactMap { $0 }
                }
                object.values.forEach(collect)
            } else if let array = node as? [Any] {
                array.forEach(collect)
            }
        }
        collect(schema)
        #expect(kinds.count == LiveAlertKind.allCases.count)
        #expect(Set(kinds) == Set(LiveAlertKind.allCases.map(\.rawValue)), "\(kinds)")
    }

    final class Lines {
        var all: [LiveLine] = []
        func alerts(_ kind: String) -> [LiveLine] { all.filter { $0.alert?.rawValue == kind } }
        /// Alerts of a change (not reminders of a rate still out of the band).
        func changes(_ kind: String) -> [LiveLine] { alerts(kind).filter { $0["reminder"] != .boolean(true) } }
    }

    func coach(_ standard: Standard = Standard(), rate: LiveRateSettings = LiveRateSettings()) -> (LiveCoach, Lines) {
        let lines = Lines()
        return (LiveCoach(standard: standard, rateSettings: rate) { lines.all.append($0) }, lines)
    }

    /// Agent utterances of 3 s with 0.4 s pauses, `syllablesEach` syllables each.
    func talk(_ c: LiveCoach, from: Double, count: Int, syllablesEach: Int) -> Double {
        var t = from
        for k in 0..<count {
            let u = Utterance(startSeconds: t, endSeconds: t + 3, syllables: syllablesEach)
            c.utterance(u, party: .agent, index: k, at: t + 3.8)
            t += 3.4
        }
        return t
    }

    @Test(
        "rate: too fast once past 126, no flapping near the edge, rate_ok once back inside the band, too slow below 95")
    func rateHysteresis() {
        let (c, lines) = coach()
        // 7 syllables per 3 s with 0.4 s pauses inside the turn: 7 / 3.4 × 60 = 123.5 /min: over 120 but not 126.
        var t = talk(c, from: 0, count: 12, syllablesEach: 7)
        #expect(lines.changes("too_fast").isEmpty, "123.5 /min is inside the hysteresis margin")
        // 8 per utterance: 141 /min; the window fills with them and the alert comes once.
        t = talk(c, from: t, count: 12, syllablesEach: 8)
        #expect(lines.changes("too_fast").count == 1)
        if case .num(let rate)? = lines.changes("too_fast").first?["rate_30s_cpm"] { #expect(rate > 126) }
        // Back to 123.5: still above 120, so still too fast (no rate_ok, no second alert).
        t = talk(c, from: t, count: 12, syllablesEach: 7)
        #expect(lines.changes("rate_ok").isEmpty && lines.changes("too_fast").count == 1)
        // 6 per utterance: 106 /min, inside the band: cleared once.
        t = talk(c, from: t, count: 12, syllablesEach: 6)
        #expect(lines.changes("rate_ok").count == 1)
        // 5 per utterance: 88 /min: too slow.
        _ = talk(c, from: t, count: 12, syllablesEach: 5)
        #expect(lines.changes("too_slow").count == 1)
        // The window is the last 30 s of talk: its start is 30 s of talk back from the end.
        if case .num(let talk)? = lines.changes("too_slow").first?["talk_s"] { #expect(abs(talk - 30) < 0.01) }
    }

    @Test(
        """
        rate reminders: while the rate stays out of the band, too_fast is said again every reminderSeconds of audio \
        with the current rate; 0 says it once; every agent utterance line carries the running 30 s rate
        """
    )
    func rateReminders() {
        let (c, lines) = coach()
        // 8 syllables per 3.4 s for 30 utterances (102 s of audio): first past 20 s of talk, then every 30 s.
        _ = talk(c, from: 0, count: 30, syllablesEach: 8)
        let fast = lines.alerts("too_fast")
        #expect(fast.count == 3, "\(fast.map { ($0.emittedAtSeconds, $0["talk_s"]) })")
        #expect(fast.map { $0["reminder"] } == [.boolean(false), .boolean(true), .boolean(true)])
        let gaps = zip(fast.dropFirst(), fast).map { $0.emittedAtSeconds - $1.emittedAtSeconds }
        #expect(gaps.allSatisfy { $0 >= 30 && $0 < 30 + 3.4 }, "\(gaps)")
        let utterances = lines.all.filter { $0.type == .utterance }
        #expect(utterances.count == 30)
        // The window's 30 s of talk holds 9 utterances, 8 pauses and part of a tenth: 142.9 /min.
        if case .num(let rate)? = utterances.last?["rate_30s_cpm"] { #expect(abs(rate - 142.9) < 0.05, "\(rate)") }
        #expect(utterances.allSatisfy { if case .num = $0["rate_30s_cpm"] { true } else { false } })
        var once = LiveRateSettings()
        once.reminderSeconds = 0
        let (quiet, quietLines) = coach(rate: once)
        _ = talk(quiet, from: 0, count: 24, syllablesEach: 8)
        #expect(quietLines.alerts("too_fast").count == 1)
    }

    @Test("no rate alert before 20 s of talk, however fast")
    func rateNeedsTalk() {
        let (c, lines) = coach()
        _ = talk(c, from: 0, count: 5, syllablesEach: 12)  // 15 s of talk at 212 /min
        #expect(lines.alerts("too_fast").isEmpty)
        _ = talk(c, from: 20, count: 2, syllablesEach: 12)  // now 21 s
        #expect(lines.alerts("too_fast").count == 1)
    }

    @Test("the rate band is the standard's: a 160–200 standard calls 143 /min too slow")
    func rateFromStandard() throws {
        let s = try Standard.decode(Data(#"{"speech_rate_min_cpm": 160, "speech_rate_max_cpm": 200}"#.utf8))
        let (c, lines) = coach(s)
        _ = talk(c, from: 0, count: 12, syllablesEach: 8)
        #expect(
            lines.alerts("too_slow").count == 1 && lines.alerts("too_fast").isEmpty,
            """
            \(s[SpeechRateRule.self]) \
            \(lines.all.filter { $0.type == .alert }.map { $0.fields.map { "\($0.0)=\($0.1)" } })
            """
        )
    }

    @Test(
        "hold_too_long: once per silence, the moment it reaches max_hold_s; no_acknowledgement: once per customer floor"
    )
    func limits() {
        let (c, lines) = coach()
        for k in 100...700 { c.silence(fromSeconds: 10, seconds: Double(k) / 10, at: 10 + Double(k) / 10) }
        let holds = lines.alerts("hold_too_long")
        #expect(holds.count == 1 && holds.first?.emittedAtSeconds == 70 && holds.first?["so_far_s"] == .num(60))
        c.silence(fromSeconds: 200, seconds: 61, at: 261)
        #expect(lines.alerts("hold_too_long").count == 2)
        for k in 50...200 {
            c.customerFloor(fromSeconds: 5, seconds: Double(k) / 10, acknowledged: false, at: 5 + Double(k) / 10)
        }
        #expect(
            lines.alerts("no_acknowledgement").count == 1
                && lines.alerts("no_acknowledgement").first?.emittedAtSeconds == 20)
        c.customerFloor(fromSeconds: 40, seconds: 30, acknowledged: true, at: 70)
        #expect(lines.alerts("no_acknowledgement").count == 1, "an acknowledged floor raises nothing")
    }

    @Test(
        """
        talking over is said while it goes on: once the overlap is longer than a backchannel (0.6 s), before the \
        overlap ends; a backchannel-length overlap says nothing; the final interruption follows
        """
    )
    func talkingOverWhileItGoesOn() {
        // The customer talks 0–6 s; the agent comes in at 2.0 s for 1.2 s (overlap 1.2 s).
        let events = TimelineEvents()
        _ = TimelineReplay(agent: [(2.0, 3.2)], customer: [(0, 6)], duration: 8, listener: events)
        #expect(events.talkingOver.count == 1, "\(events.talkingOver)")
        if let said = events.talkingOver.first {
            #expect(said.by == .agent && said.atFrame == 200)
            #expect(said.decidedAt == 261 && said.overlapSoFarFrames == 61, "decided at frame \(said.decidedAt)")
            #expect(said.decidedAt < 320, "said after the overlap ended")
        }
        #expect(events.interruptions.count == 1 && events.interruptions.first.map { $0.0.overlapSeconds } == 1.2)
        // 0.55 s over the customer (a backchannel's length): nothing said while it lasts.
        let short = TimelineEvents()
        _ = TimelineReplay(agent: [(2.0, 2.55)], customer: [(0, 6)], duration: 8, listener: short)
        #expect(short.talkingOver.isEmpty, "\(short.talkingOver)")
    }

    @Test(
        """
        talking over is said from what the voice activity first hears: when final decisions stall for 1.5 s (a \
        music window still open), the alert still comes before a 1.2 s overlap ends; without the hint it comes after
        """
    )
    func talkingOverFromTheFirstHearing() {
        let hinted = TimelineEvents()
        _ = TimelineReplay(
            agent: [(2.0, 3.2)], customer: [(0, 6)], duration: 8, listener: hinted, decisionLagFrames: 30,
            stalled: 230..<380, hearsAhead: true)
        #expect(hinted.talkingOver.count == 1, "\(hinted.talkingOver)")
        if let said = hinted.talkingOver.first {
            #expect(said.decidedAt == 261 && said.overlapSoFarFrames == 61, "decided at frame \(said.decidedAt)")
        }
        // The verdict is the final decisions' alone: the same interruption, 1.5 s later.
        #expect(hinted.interruptions.map { $0.0.overlapSeconds } == [1.2])
        let late = TimelineEvents()
        _ = TimelineReplay(
            agent: [(2.0, 3.2)], customer: [(0, 6)], duration: 8, listener: late, decisionLagFrames: 30,
            stalled: 230..<380)
        #expect(late.talkingOver.first.map { $0.decidedAt > 320 } == true, "\(late.talkingOver)")
        #expect(late.interruptions.map { $0.0.overlapSeconds } == [1.2])
        // A hint that stops before a pause long enough to close the talk does not carry on.
        let paused = TimelineEvents()
        _ = TimelineReplay(
            agent: [(2.0, 2.4), (3.5, 5)], customer: [(0, 6)], duration: 8, listener: paused, decisionLagFrames: 30,
            stalled: 230..<380, hearsAhead: true)
        #expect(paused.talkingOver.allSatisfy { $0.atFrame == 350 }, "\(paused.talkingOver)")
    }

    @Test(
        """
        customer floors and what is reported of them while they last agree with the final floors, whichever \
        channel's decisions run behind: an agent start the floor's end may still latch is not yet a silence, \
        and a pause is joined only once the agent is known through it
        """
    )
    func floorsWhateverTheLags() {
        // A: the agent says 嗯 at 14.8 s into a 16 s customer floor: an acknowledgement (the
        //    customer goes on past the 0.5 s latch), though at 15 s it was within the latch.
        // B: the agent speaks in the customer's 0.5 s pause at 10 s: two floors, the second
        //    15.5 s long and unacknowledged.
        // C: the agent latches onto the end of a 15.3 s floor: unacknowledged.
        // D: the same, the reply starting at 14.9 s: before the floor's 15 s, yet latched; the
        //    floor is over, unacknowledged, once the customer has been silent 3 s.
        let calls: [(agent: [(Double, Double)], customer: [(Double, Double)])] = [
            ([(14.8, 15.1), (17, 19)], [(0, 16)]),
            ([(10.1, 10.4), (27, 29)], [(0, 10), (10.5, 26)]),
            ([(15.1, 17)], [(0, 15.3)]),
            ([(14.9, 17)], [(0, 15.3)]),
        ]
        let limitFrames = 1500
        for (k, call) in calls.enumerated() {
            let reference = TimelineReplay(agent: call.agent, customer: call.customer, duration: 30).timeline.floors
            let silent = reference.filter { !$0.acknowledged && $0.durationSeconds >= 15 }
                .map { Int(($0.startSeconds * 100).rounded()) }
            for lags in [[0, 0], [60, 0], [150, 0], [0, 60], [0, 150]] {
                let events = TimelineEvents()
                let replay = TimelineReplay(
                    agent: call.agent, customer: call.customer, duration: 30, listener: events,
                    decisionLagFrames: 25, extraLagFrames: lags)
                #expect(replay.timeline.floors == reference, "call \(k), lags \(lags): \(replay.timeline.floors)")
                let alerted = events.unacknowledged.filter { $0.value >= limitFrames }.keys.sorted()
                #expect(alerted == silent, "call \(k), lags \(lags): alerted \(alerted), final \(silent)")
                // Said while the call goes on: within the lags and the 3 s a floor may still be
                // joined across after its end, never held to the call's end (30 s).
                for (start, at) in events.silentAt {
                    let end = Int(
                        ((reference.first { Int(($0.startSeconds * 100).rounded()) == start }?.endSeconds
                            ?? 0) * 100).rounded())
                    #expect(
                        at <= max(start + limitFrames, end + 300) + 25 + (lags.max() ?? 0) + 1,
                        "call \(k), lags \(lags): floor at \(start) said at \(at)")
                }
            }
        }
    }

    @Test("talking over: only the agent's interruptions alert; utterance lines carry the rule's ending judgement")
    func interruptionsAndEndings() {
        let (c, lines) = coach()
        c.talkingOver(by: .customer, atSeconds: 3, overlapSoFarSeconds: 0.5, at: 4.5)
        c.talkingOver(by: .agent, atSeconds: 9, overlapSoFarSeconds: 0.6, at: 10.5)
        #expect(
            lines.alerts("talking_over_customer").count == 1
                && lines.alerts("talking_over_customer").first?["at_s"] == .num(9))
        var sinking = Utterance(
            startSeconds: 0, endSeconds: 2, syllables: 6, finalDropSemitones: 4, endRelativeToMedianSemitones: -3)
        sinking.endingSpan = TimeSpan(startSeconds: 1.6, endSeconds: 2)
        c.utterance(sinking, party: .agent, index: 0, at: 2.8)
        c.utterance(
            Utterance(
                startSeconds: 3, endSeconds: 5, syllables: 6, finalDropSemitones: 0.2, endRelativeToMedianSemitones: 0.5
            ),
            party: .agent, index: 1, at: 5.8)
        c.utterance(Utterance(startSeconds: 3, endSeconds: 5, syllables: 6), party: .customer, index: 0, at: 5.8)
        let utterances = lines.all.filter { $0.type == .utterance }
        #expect(utterances.map { $0["falling_ending"] } == [.boolean(true), .boolean(false)])
        let endings = lines.all.filter { $0.type == .sinkingEnding }
        #expect(
            endings.count == 1 && endings.first?["start_s"] == .num(1.6)
                && endings.first?["utterance_index"] == .whole(0))
    }
}
