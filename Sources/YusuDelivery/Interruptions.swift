/// Interruptions and backchannels between two parties' utterances (definitions in
/// CONTRACT.md): a newcomer starting while the other speaks, overlapping at least
/// `interruptionMinimumOverlapSeconds` and going on at least
/// `interruptionMinimumNewcomerSeconds`, is an interruption; a burst shorter than
/// `backchannelMaximumSeconds` inside the other's speech is a backchannel; an overlap
/// shorter than that at a turn change is latching, neither.
public struct OverlapClassifier: Sendable {
    public var config: DeliveryConfig
    public init(config: DeliveryConfig) { self.config = config }

    public func classify(agent: [Utterance], customer: [Utterance]) -> (interruptions: [Interruption], backchannels: [Backchannel]) {
        var interruptions: [Interruption] = []
        var backchannels: [Backchannel] = []
        for (party, mine, theirs) in [(Party.agent, agent, customer), (Party.customer, customer, agent)] {
            for u in mine {
                // The other party's utterance under way when this one starts.
                guard let host = theirs.first(where: { $0.startSeconds < u.startSeconds && $0.endSeconds > u.startSeconds }) else { continue }
                let overlap = min(host.endSeconds, u.endSeconds) - u.startSeconds
                if u.durationSeconds < config.backchannelMaximumSeconds && host.endSeconds > u.endSeconds {
                    backchannels.append(Backchannel(by: party, atSeconds: u.startSeconds, durationSeconds: u.durationSeconds))
                } else if overlap >= config.interruptionMinimumOverlapSeconds && u.durationSeconds >= config.interruptionMinimumNewcomerSeconds {
                    interruptions.append(Interruption(by: party, atSeconds: u.startSeconds, overlapSeconds: overlap))
                }
            }
        }
        interruptions.sort { $0.atSeconds < $1.atSeconds }
        backchannels.sort { $0.atSeconds < $1.atSeconds }
        return (interruptions, backchannels)
    }
}
