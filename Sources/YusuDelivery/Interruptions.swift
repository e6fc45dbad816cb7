/// Interruptions and backchannels between two parties' utterances (definitions in
/// CONTRACT.md): a newcomer starting while the other speaks, overlapping at least
/// `interruptionMinimumOverlapSeconds` and going on at least
/// `interruptionMinimumNewcomerSeconds`, is an interruption; a burst shorter than
/// `backchannelMaximumSeconds` inside the other's speech is a backchannel; an overlap
/// shorter than that at a turn change is latching, neither.
///
/// "Speaking" is judged on talk spans: each party's utterances joined across pauses
/// shorter than `interruptionHostPauseSeconds`, so that a breath inside the customer's
/// sentence is still the customer's floor, and the agent resuming after such a breath is
/// not a new start.
public struct OverlapClassifier: Sendable {
    public var config: DeliveryConfig
    public init(config: DeliveryConfig) { self.config = config }

    public func classify(agent: [Utterance], customer: [Utterance]) -> (
        interruptions: [Interruption], backchannels: [Backchannel]
    ) {
        var interruptions: [Interruption] = []
        var backchannels: [Backchannel] = []
        let gap = config.interruptionHostPauseSeconds
        let agentTalk = Spans.bridged(agent.map(\.span), gapSeconds: gap)
        let customerTalk = Spans.bridged(customer.map(\.span), gapSeconds: gap)
        for (party, mine, myTalk, theirTalk) in [
            (Party.agent, agent, agentTalk, customerTalk), (Party.customer, customer, customerTalk, agentTalk),
        ] {
            // Backchannels: short utterances inside the other's talk.
            // Not one: the tail of my own sentence after the other talked over me. That
            // happens when they started while I was still speaking, within my own
            // turn's pause.
            for (k, u) in mine.enumerated() where u.durationSeconds < config.backchannelMaximumSeconds {
                guard
                    let host = theirTalk.first(where: {
                        $0.startSeconds < u.startSeconds && $0.endSeconds > u.endSeconds
                    })
                else { continue }
                if k > 0, mine[k - 1].endSeconds > host.startSeconds,
                    u.startSeconds - mine[k - 1].endSeconds < config.turnPauseSeconds
                {
                    continue
                }
                backchannels.append(
                    Backchannel(by: party, atSeconds: u.startSeconds, durationSeconds: u.durationSeconds))
            }
            // Interruptions: a talk span that starts inside the other's talk span.
            for talk in myTalk {
                guard
                    let host = theirTalk.first(where: {
                        $0.startSeconds < talk.startSeconds && $0.endSeconds > talk.startSeconds
                    })
                else { continue }
                let overlap = min(host.endSeconds, talk.endSeconds) - talk.startSeconds
                if overlap >= config.interruptionMinimumOverlapSeconds
                    && talk.durationSeconds >= config.interruptionMinimumNewcomerSeconds
                {
                    interruptions.append(Interruption(by: party, atSeconds: talk.startSeconds, overlapSeconds: overlap))
                }
            }
        }
        interruptions.sort { $0.atSeconds < $1.atSeconds }
        backchannels.sort { $0.atSeconds < $1.atSeconds }
        return (interruptions, backchannels)
    }
}
