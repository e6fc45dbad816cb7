// The call between two parties, as it happens: turns, interruptions, backchannels, holds,
// from each party's utterance spans (definitions in CONTRACT.md; the numbers in
// `DeliveryConfig`).
//
// Each party reports its utterances as they open (the start frame), grow and close (the
// end), and how far its speech is known (every frame before it decided). A decision is
// made, and never changed, once what it rests on is known:
//   - a turn: a party's utterances joined across pauses under `turnPauseSeconds`, unless
//     the other party starts inside the pause; decided when the next utterance starts and
//     the other party is known that far, or the pause is long enough;
//   - talk spans (for overlaps): utterances joined across pauses under
//     `interruptionHostPauseSeconds`: the floor a breath does not give up;
//   - an interruption: a talk span that starts inside the other party's talk span, both
//     then speaking for at least `interruptionMinimumOverlapSeconds` and the newcomer going
//     on for at least `interruptionMinimumNewcomerSeconds`. It qualifies as soon as the
//     spans have reached those lengths (the coach hears of it then); its overlap is final
//     when the first of the two spans has closed;
//   - a backchannel: an utterance shorter than `backchannelMaximumSeconds` inside the other
//     party's talk span (not the tail of one's own sentence after being talked over);
//   - a hold: a stretch of at least `minimumHoldSeconds` in which neither party speaks,
//     decided when speech comes back; its limit is raised while it lasts.
// Look-ahead past the last speech frame: the longest pause that still joins (1.5 s for a
// turn, 0.7 s for a talk span). Memory: the recent spans of each party.
import Foundation
import YusuSignal

/// What the timeline hears about and decides, for a listener (the coach).
protocol CallTimelineListener: AnyObject {
    /// A party is talking over the other, while it goes on: for longer than a backchannel
    /// lasts, or an interruption has qualified, whichever comes first (once per overlap).
    func talkingOver(by: Party, atFrame: Int, overlapSoFarFrames: Int, decidedAt: Int)
    /// An interruption is final, with its whole overlap.
    func interruptionFinal(_ i: Interruption, decidedAt: Int)
    func backchannel(_ b: Backchannel, decidedAt: Int)
    func hold(_ span: TimeSpan, decidedAt: Int)
    /// The silence since `fromFrame` has lasted `frames` so far.
    func silence(fromFrame: Int, frames: Int, at: Int)
    /// The customer has held the floor since `fromFrame` for `frames`, with no agent sound.
    func customerFloor(fromFrame: Int, frames: Int, acknowledged: Bool, at: Int)
}

struct CallTimeline {
    let hop: Double
    let config: DeliveryConfig
    let parties: [Party]
    /// The CallStream that owns this timeline (unowned for the reason ChannelStream's
    /// delegate is).
    unowned(unsafe) var listener: CallTimelineListener?

    struct Span {
        var start: Int
        var end: Int
        var closed: Bool
    }

    /// Per party: its utterance spans not yet fully used (the open one last), and how far
    /// its speech is known.
    private var spans: [[Span]]
    /// (Written for every party at every frame: `FixedBuffer`s, without an array's
    /// uniqueness check per write. A copy of a timeline shares them.)
    private let known: FixedBuffer<Int>
    /// Per party: the latest talk as the voice activity first hears it, ahead of `known`
    /// (`VoiceActivityTracker.heardSpeech`): only the early alert reads it.
    private let heard: FixedBuffer<Range<Int>?>
    /// Talk spans (joined over `interruptionHostPauseSeconds`), recent, per party.
    private var talks: [[Span]]
    /// The previous utterance's end per party (for the backchannel exclusion).
    private var previousEnd: [Int?]
    private var lastEnd: [Int?]
    /// Turns per party, and the open turn.
    private(set) var turns: [[TimeSpan]]
    private var turnOpen: [Span?]
    /// Utterance spans each party has closed, waiting to join or close a turn.
    private var turnQueue: [[Span]]
    /// Utterance starts of each party, recent (for "the other starts inside the pause").
    private var starts: [[Int]]
    /// Interruption candidates: a talk span of `by` starting at `start`.
    private var candidates: [(by: Int, start: Int, qualified: Bool, alerted: Bool)] = []
    /// Short utterances waiting for the other's talk around them.
    private var shortOnes: [(by: Int, start: Int, end: Int, previousEnd: Int?)] = []
    private(set) var interruptions: [Interruption] = []
    private(set) var backchannels: [Backchannel] = []
    private(set) var holds: [TimeSpan] = []
    /// Silence: where the union of everyone's speech ends so far, and spans not yet merged.
    private var unionEnd = 0
    private var merged: [Int]
    private var silenceReported = -1
    /// The customer's floors, closed; and the open one: joined over
    /// `DeliveryConfig.floorGapSeconds` unless the agent starts in the pause.
    private(set) var floors: [CustomerFloor] = []
    private var floorStart: Int? = nil
    private var floorEnd = 0
    private var floorAcknowledged = false
    private var floorReported = 0

    init(hop: Double, config: DeliveryConfig, parties: [Party]) {
        self.hop = hop
        self.config = config
        self.parties = parties
        let n = parties.count
        spans = Array(repeating: [], count: n)
        known = FixedBuffer(count: n, filler: 0)
        heard = FixedBuffer(count: n, filler: nil)
        talks = Array(repeating: [], count: n)
        previousEnd = Array(repeating: nil, count: n)
        lastEnd = Array(repeating: nil, count: n)
        turns = Array(repeating: [], count: n)
        turnOpen = Array(repeating: nil, count: n)
        turnQueue = Array(repeating: [], count: n)
        starts = Array(repeating: [], count: n)
        merged = Array(repeating: 0, count: n)
    }

    private func frames(_ seconds: Double) -> Int { Int((seconds / hop).rounded()) }
    private func seconds(_ frames: Int) -> Double { Double(frames) * hop }
    private var talkGap: Int { frames(config.interruptionHostPauseSeconds) }
    private var turnGap: Int { frames(config.turnPauseSeconds) }

    // MARK: Reports from the parties

    /// Party `p` has begun an utterance at `start`.
    mutating func opened(_ p: Int, start: Int) {
        spans[p].append(Span(start: start, end: start + 1, closed: false))
        starts[p].append(start)
        if starts[p].count > 256 { starts[p].removeFirst(128) }
        // Talk spans: this continues the current one unless the pause was long.
        if var last = talks[p].last, !last.closed, start - last.end < talkGap {
            last.end = max(last.end, start + 1)
            talks[p][talks[p].count - 1] = last
        } else {
            if !talks[p].isEmpty { talks[p][talks[p].count - 1].closed = true }
            talks[p].append(Span(start: start, end: start + 1, closed: false))
            if talks[p].count > 64 { talks[p].removeFirst(32) }
            if parties.count == 2 { candidates.append((p, start, false, false)) }
        }
    }

    /// Party `p`'s open utterance has reached `end` (exclusive).
    mutating func grew(_ p: Int, end: Int) {
        guard let k = spans[p].indices.last, !spans[p][k].closed else { return }
        spans[p][k].end = max(spans[p][k].end, end)
        if !talks[p].isEmpty { talks[p][talks[p].count - 1].end = max(talks[p][talks[p].count - 1].end, end) }
    }

    /// Party `p`'s open utterance closed at `end`.
    mutating func closed(_ p: Int, end: Int) {
        grew(p, end: end)
        guard let k = spans[p].indices.last, !spans[p][k].closed else { return }
        spans[p][k].closed = true
        let span = spans[p][k]
        turnQueue[p].append(span)
        if parties.count == 2 && seconds(span.end - span.start) < config.backchannelMaximumSeconds {
            shortOnes.append((p, span.start, span.end, lastEnd[p]))
        }
        previousEnd[p] = lastEnd[p]
        lastEnd[p] = span.end
    }

    /// Party `p`'s speech is known for every frame before `frame`.
    mutating func known(_ p: Int, through frame: Int) {
        known[p] = frame
        // Talk spans close when the pause after them is long enough.
        if let last = talks[p].last, !last.closed, !(spans[p].last.map { !$0.closed } ?? false),
            frame - last.end >= talkGap
        {
            talks[p][talks[p].count - 1].closed = true
        }
    }

    /// Party `p`'s latest talk as first heard (see `heard`).
    mutating func heard(_ p: Int, _ talk: Range<Int>?) { heard[p] = talk }

    /// How far a talk span of party `p` reaches so far: its end, or, while it is open, as far
    /// as the talk first heard goes on from it without a pause that would close it.
    private func reach(_ p: Int, _ span: Span) -> Int {
        guard !span.closed, let h = heard[p], h.lowerBound <= span.end else { return span.end }
        return max(span.end, h.upperBound)
    }

    // MARK: Decisions

    /// Everything that can be decided now is; `at` is the newest frame heard.
    mutating func decide(at: Int, final: Bool = false) {
        decideTurns(final: final)
        if parties.count == 2 {
            decideInterruptions(at: at, final: final)
            decideBackchannels(at: at, final: final)
            decideFloor(at: at, final: final)
        }
        decideHolds(at: at, final: final)
        trim()
    }

    /// The talk span of party `p` holding frame `t`, and whether that is final: nil talk
    /// when `p` is not talking at `t`; `decided` false while a pause before `t` may still
    /// be bridged.
    private func talk(_ p: Int, at t: Int, final: Bool) -> (span: Span?, decided: Bool) {
        for s in talks[p].reversed() {
            if s.start < t && s.end > t { return (s, true) }
            if s.start < t && s.end <= t {
                // It ended before t: unless it may still grow past t.
                if s.closed || final { return (nil, true) }
                return (nil, false)
            }
        }
        return (nil, true)
    }

    private mutating func decideInterruptions(at: Int, final: Bool) {
        let minOverlap = frames(config.interruptionMinimumOverlapSeconds)
        let minNewcomer = frames(config.interruptionMinimumNewcomerSeconds)
        let longestBackchannel = frames(config.backchannelMaximumSeconds)
        var k = 0
        while k < candidates.count {
            let c = candidates[k]
            let other = 1 - c.by
            // The host must be known at the newcomer's start.
            if known[other] <= c.start && !final {
                k += 1
                continue
            }
            let (host, decided) = talk(other, at: c.start, final: final)
            guard decided else {
                k += 1
                continue
            }
            guard let h = host, let mine = talks[c.by].first(where: { $0.start == c.start }) else {
                candidates.remove(at: k)
                continue
            }
            let overlapSoFar = min(h.end, mine.end) - c.start
            let lengthSoFar = mine.end - c.start
            if !c.qualified && overlapSoFar >= minOverlap && lengthSoFar >= minNewcomer {
                candidates[k].qualified = true
            }
            // Said while it goes on: longer than any backchannel is already talking over. The
            // talk first heard says so before the final decisions, which may wait for music.
            let heardOverlap = min(reach(other, h), reach(c.by, mine)) - c.start
            if !c.alerted && (candidates[k].qualified || heardOverlap > longestBackchannel) {
                candidates[k].alerted = true
                listener?.talkingOver(
                    by: parties[c.by], atFrame: c.start, overlapSoFarFrames: heardOverlap, decidedAt: at)
            }
            // Final once the span that ends first has closed.
            let hostFinal = h.closed || final
            let mineFinal = mine.closed || final
            let overlapFinal =
                (hostFinal && (mineFinal || mine.end >= h.end)) || (mineFinal && (hostFinal || h.end >= mine.end))
            let lengthFinal = mineFinal || lengthSoFar >= minNewcomer
            if overlapFinal && lengthFinal {
                if candidates[k].qualified || (overlapSoFar >= minOverlap && lengthSoFar >= minNewcomer) {
                    if !candidates[k].alerted {
                        listener?.talkingOver(
                            by: parties[c.by], atFrame: c.start, overlapSoFarFrames: overlapSoFar, decidedAt: at)
                    }
                    let i = Interruption(
                        by: parties[c.by], atSeconds: seconds(c.start), overlapSeconds: seconds(overlapSoFar))
                    interruptions.append(i)
                    listener?.interruptionFinal(i, decidedAt: at)
                }
                candidates.remove(at: k)
                continue
            }
            k += 1
        }
    }

    private mutating func decideBackchannels(at: Int, final: Bool) {
        let tailGap = frames(config.turnPauseSeconds)
        var k = 0
        while k < shortOnes.count {
            let u = shortOnes[k]
            let other = 1 - u.by
            // The other's talk span that began before it, and whether it goes on past its end.
            var host: Span? = nil
            var decided = false
            for s in talks[other].reversed() where s.start < u.start {
                if s.end > u.end {
                    host = s
                    decided = true
                } else if s.closed || final {
                    decided = true
                }
                break
            }
            if !decided && talks[other].allSatisfy({ $0.start >= u.start }) && (known[other] > u.start || final) {
                decided = true
            }
            guard decided else {
                k += 1
                continue
            }
            shortOnes.remove(at: k)
            guard let h = host else { continue }
            // Not the tail of one's own sentence after the other talked over it.
            if let prev = u.previousEnd, prev > h.start, u.start - prev < tailGap { continue }
            let b = Backchannel(
                by: parties[u.by], atSeconds: seconds(u.start), durationSeconds: seconds(u.end - u.start))
            backchannels.append(b)
            listener?.backchannel(b, decidedAt: at)
        }
    }

    private mutating func decideTurns(final: Bool) {
        for p in parties.indices {
            let other = parties.count == 2 ? 1 - p : nil
            while let next = turnQueue[p].first {
                guard var open = turnOpen[p] else {
                    turnOpen[p] = next
                    turnQueue[p].removeFirst()
                    continue
                }
                let gap = next.start - open.end
                if gap < turnGap {
                    // Joined unless the other party starts inside the pause (known there?).
                    if let o = other {
                        guard known[o] >= next.start || final else { break }
                        if starts[o].contains(where: { $0 >= open.end && $0 < next.start }) {
                            closeTurn(p)
                            continue
                        }
                    }
                    open.end = max(open.end, next.end)
                    turnOpen[p] = open
                    turnQueue[p].removeFirst()
                } else {
                    closeTurn(p)
                }
            }
            // A turn whose pause is already long enough is over.
            if let open = turnOpen[p], turnQueue[p].isEmpty, spans[p].last.map({ $0.closed }) ?? true,
                final || known[p] - open.end >= turnGap
                    || (spans[p].last.map { !$0.closed && $0.start - open.end >= turnGap } ?? false)
            {
                closeTurn(p)
            }
        }
    }

    private mutating func closeTurn(_ p: Int) {
        guard let open = turnOpen[p] else { return }
        turns[p].append(TimeSpan(startSeconds: seconds(open.start), endSeconds: seconds(open.end)))
        turnOpen[p] = nil
    }

    /// Holds: gaps of the union of everyone's utterances, decided when speech comes back.
    private mutating func decideHolds(at: Int, final: Bool) {
        let settled = final ? Int.max : known.min() ?? 0
        let minimum = frames(config.minimumHoldSeconds)
        while true {
            // The next span to merge: the earliest start among the parties' unmerged spans.
            var best: (p: Int, k: Int)? = nil
            for p in parties.indices where merged[p] < spans[p].count {
                let s = spans[p][merged[p]]
                if s.start < settled, best == nil || s.start < spans[best!.p][best!.k].start { best = (p, merged[p]) }
            }
            guard let (p, k) = best else { break }
            let s = spans[p][k]
            if s.start - unionEnd >= minimum {
                let hold = TimeSpan(startSeconds: seconds(unionEnd), endSeconds: seconds(s.start))
                holds.append(hold)
                listener?.hold(hold, decidedAt: at)
            }
            unionEnd = max(unionEnd, s.end)
            // A span still open keeps the union open; it is merged again as it grows.
            if !s.closed { break }
            merged[p] += 1
        }
        // Open spans grow the union.
        for p in parties.indices where merged[p] < spans[p].count && spans[p][merged[p]].start < settled {
            unionEnd = max(unionEnd, spans[p][merged[p]].end)
        }
        if !final, settled > unionEnd,
            parties.indices.allSatisfy({ p in merged[p] >= spans[p].count || spans[p][merged[p]].start >= settled })
        {
            let silent = settled - unionEnd
            if silent >= minimum && unionEnd != silenceReported {
                listener?.silence(fromFrame: unionEnd, frames: silent, at: at)
            }
        }
    }

    /// The last silence at the end of the call (to `durationFrames`) is a hold if long enough.
    mutating func finishHolds(durationFrames: Int) {
        if durationFrames - unionEnd >= frames(config.minimumHoldSeconds) {
            let hold = TimeSpan(startSeconds: seconds(unionEnd), endSeconds: seconds(durationFrames))
            holds.append(hold)
            listener?.hold(hold, decidedAt: durationFrames)
        }
    }

    /// The customer's floor, measured once for the listening rule and the coach alike: the
    /// customer's utterances joined over pauses under `DeliveryConfig.floorGapSeconds` unless
    /// the agent starts in the pause. The open floor's length so far and whether the agent
    /// has acknowledged it so far go to the listener; closed floors to `floors`.
    private mutating func decideFloor(at: Int, final: Bool) {
        guard let customer = parties.firstIndex(of: .customer), let agent = parties.firstIndex(of: .agent) else {
            return
        }
        let gap = frames(config.floorGapSeconds)
        for span in spans[customer] where span.start > floorSeen {
            // Whether the agent started in the pause before it is known once the agent is known
            // that far (the two channels' decisions do not keep step).
            if !final && known[agent] < span.start { break }
            if floorStart != nil, span.start - floorEnd < gap,
                !starts[agent].contains(where: { $0 >= floorEnd && $0 < span.start })
            {
                floorEnd = max(floorEnd, span.end)
            } else {
                closeFloor(agent: agent, at: at)
                floorStart = span.start
                floorEnd = span.end
                floorAcknowledged = false
                floorReported = 0
            }
            floorSeen = span.start
        }
        guard let start = floorStart else { return }
        if let last = spans[customer].last, last.start >= start, last.start <= floorSeen {
            floorEnd = max(floorEnd, last.end)
            // Over once nothing can join it: its last span has closed, the agent is known
            // through it, and the customer has been silent for the gap, or the agent has
            // started since (every customer span before that moment is known).
            if !final, last.closed, known[agent] >= floorEnd,
                known[customer] - floorEnd >= gap
                    || starts[agent].contains(where: { $0 >= floorEnd && $0 <= known[customer] })
            {
                closeFloor(agent: agent, at: at)
                return
            }
        }
        if !floorAcknowledged { floorAcknowledged = acknowledges(agent: agent, start: start, end: floorEnd) }
        // Reported only as far as it is without a sound from the agent for certain: the agent
        // known that far (its channel's decisions may run behind the customer's), and not past
        // an agent start that the floor's end may yet latch (an acknowledgement if the
        // customer goes on, a reply if the floor ends: closeFloor reports that).
        var length = floorEnd - start
        if !final {
            length = min(length, known[agent] - start)
            if !floorAcknowledged, let s = starts[agent].first(where: { $0 >= start }) {
                length = min(length, s - start)
            }
        }
        if length > floorReported {
            listener?.customerFloor(fromFrame: start, frames: length, acknowledged: floorAcknowledged, at: at)
            floorReported = length
        }
    }

    private var floorSeen = -1

    /// Whether the agent starts inside `[start, end)` before its last `floorLatchSeconds`.
    private func acknowledges(agent: Int, start: Int, end: Int) -> Bool {
        let latched = end - frames(config.floorLatchSeconds)
        return starts[agent].contains { $0 >= start && $0 < latched }
    }

    /// The open floor, if any, is over: kept with its final acknowledgement.
    private mutating func closeFloor(agent: Int, at: Int) {
        guard let start = floorStart else { return }
        let acknowledged = floorAcknowledged || acknowledges(agent: agent, start: start, end: floorEnd)
        if floorEnd - start > floorReported {
            listener?.customerFloor(fromFrame: start, frames: floorEnd - start, acknowledged: acknowledged, at: at)
        }
        floors.append(
            CustomerFloor(
                span: TimeSpan(startSeconds: seconds(start), endSeconds: seconds(floorEnd)),
                acknowledged: acknowledged))
        floorStart = nil
    }

    /// Drops what no decision will read again.
    private mutating func trim() {
        for p in parties.indices {
            let keep = merged[p]
            if keep > 64 {
                spans[p].removeFirst(keep - 8)
                merged[p] = 8
            }
        }
    }

    /// What is still undecided is decided: the call has ended.
    mutating func finish(durationFrames: Int) {
        for p in parties.indices {
            known[p] = Int.max / 4
            if !talks[p].isEmpty { talks[p][talks[p].count - 1].closed = true }
        }
        decide(at: durationFrames, final: true)
        if let agent = parties.firstIndex(of: .agent), parties.count == 2 {
            closeFloor(agent: agent, at: durationFrames)
        }
        finishHolds(durationFrames: durationFrames)
        for p in parties.indices { closeTurn(p) }
        interruptions.sort { $0.atSeconds < $1.atSeconds }
        backchannels.sort { $0.atSeconds < $1.atSeconds }
    }
}
