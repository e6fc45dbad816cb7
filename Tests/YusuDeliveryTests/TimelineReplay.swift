import Foundation

@testable import YusuDelivery

/// A synthetic call through the real `CallTimeline`: each party's utterances (seconds) are
/// reported frame by frame, as `CallStream` reports what its channels decide, and the call
/// is finished. Interruptions, backchannels, holds, turns and floors are then the timeline's
/// own, the ones `score` and `live` use: no second implementation for the tests.
struct TimelineReplay {
    let timeline: CallTimeline

    /// - Parameters:
    ///   - agent, customer: utterances as (start, end) seconds, in time order; `customer`
    ///     nil for a mono call.
    ///   - duration: the call's length, seconds (default: the last end plus 1 s).
    init(
        agent: [(Double, Double)], customer: [(Double, Double)]? = nil, duration: Double? = nil,
        config: DeliveryConfig = DeliveryConfig(), hop: Double = 0.01, listener: CallTimelineListener? = nil,
        decisionLagFrames lag: Int = 0, stalled: Range<Int>? = nil, hearsAhead: Bool = false,
        extraLagFrames: [Int] = [0, 0]
    ) {
        let parties: [[(Double, Double)]] = customer.map { [agent, $0] } ?? [agent]
        var timeline = CallTimeline(
            hop: hop, config: config, parties: customer == nil ? [.agent] : [.agent, .customer])
        timeline.listener = listener
        let frames = parties.map { $0.map { (Int(($0.0 / hop).rounded()), Int(($0.1 / hop).rounded())) } }
        let last = parties.flatMap { $0 }.map(\.1).max() ?? 0
        let total = Int(((duration ?? last + 1) / hop).rounded())
        var next = Array(repeating: 0, count: parties.count)
        // Frame `t` is heard at `t` and decided `lag` frames later, as the voice activity's
        // look-ahead delays it (party p's `extraLagFrames[p]` more: the channels' decisions do
        // not keep step); while the input is in `stalled`, decisions stop where they are (a
        // music window still open). The first stage's hint reaches the frame heard.
        var decided = Array(repeating: 0, count: parties.count)
        let longest = lag + (extraLagFrames.max() ?? 0)
        for heardTo in 0..<(total + longest) {
            if hearsAhead && heardTo < total {
                for p in parties.indices {
                    let talk = frames[p].last { $0.0 <= heardTo }
                    timeline.heard(p, talk.map { $0.0..<min($0.1, heardTo + 1) })
                }
            }
            for p in parties.indices {
                var frontier = min(total, heardTo + 1 - lag - (p < extraLagFrames.count ? extraLagFrames[p] : 0))
                if let stalled, stalled.contains(heardTo) { frontier = min(frontier, stalled.lowerBound) }
                while decided[p] < frontier {
                    let t = decided[p]
                    let spans = frames[p]
                    if next[p] < spans.count {
                        let (start, end) = spans[next[p]]
                        if t == start { timeline.opened(p, start: start) }
                        if t >= start && t < end { timeline.grew(p, end: t + 1) }
                        if t + 1 == end {
                            timeline.closed(p, end: end)
                            next[p] += 1
                        }
                    }
                    decided[p] += 1
                }
                timeline.known(p, through: decided[p])
            }
            timeline.decide(at: min(heardTo + 1, total))
        }
        timeline.finish(durationFrames: total)
        self.timeline = timeline
    }
}

/// What the timeline told its listener, with the frame it was decided at.
final class TimelineEvents: CallTimelineListener {
    var talkingOver: [(by: Party, atFrame: Int, overlapSoFarFrames: Int, decidedAt: Int)] = []
    var interruptions: [(Interruption, decidedAt: Int)] = []
    /// The floors reported with no acknowledgement, longest report per floor start (frames).
    var unacknowledged: [Int: Int] = [:]
    func talkingOver(by: Party, atFrame: Int, overlapSoFarFrames: Int, decidedAt: Int) {
        talkingOver.append((by, atFrame, overlapSoFarFrames, decidedAt))
    }
    func interruptionFinal(_ i: Interruption, decidedAt: Int) { interruptions.append((i, decidedAt)) }
    func backchannel(_ b: Backchannel, decidedAt: Int) {}
    func hold(_ span: TimeSpan, decidedAt: Int) {}
    func silence(fromFrame: Int, frames: Int, at: Int) {}
    /// When each floor was first reported at 15 s or more without an acknowledgement.
    var silentAt: [Int: Int] = [:]
    func customerFloor(fromFrame: Int, frames: Int, acknowledged: Bool, at: Int) {
        if !acknowledged { unacknowledged[fromFrame] = max(unacknowledged[fromFrame] ?? 0, frames) }
        if !acknowledged && frames >= 1500 && silentAt[fromFrame] == nil { silentAt[fromFrame] = at }
    }
}
