import Foundation

/// 电话服务：保持"嗯""是的"等回应 (show you are listening): every stretch of at least
/// `listening_turn_s` (default 15 s) in which the customer holds the floor contains an
/// acknowledgement from the agent: a backchannel, or any agent speech starting inside it.
/// The customer holds the floor across their own pauses up to `floorGapSeconds` (3 s: a
/// breath between sentences, or a thought) as long as the agent says nothing in them; an
/// agent reply in a pause ends the stretch.
///
/// Default 15 s: a quarter of a minute of talk without a sound from the agent is the point
/// at which callers ask "are you there?" (喂，在吗); service scripts ask for a response
/// every few sentences.
public struct ListeningRule: StandardRule {
    public let id = "listening"
    public let chineseName = "适时回应客户"
    public let englishName = "Active listening"
    public let defaultWeight = 5.0
    public let settings = [RuleSetting("listening_turn_s", 15)]
    /// The customer's own pauses up to this long keep the floor, s.
    static let floorGapSeconds = 3.0
    /// Agent speech starting this close to the end of the customer's stretch is the reply.
    static let latchSeconds = 0.5
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        check(s["listening_turn_s"] >= 3, "listening_turn_s (\(s["listening_turn_s"])) must be at least 3 s")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let minimum = s["listening_turn_s"]
        guard let customer = call.customer else {
            return verdict(passed: nil, value: nil, unit: "unacknowledged turns", limit: .atMost(0),
                           reason: "mono recording: the customer is not on a channel of their own")
        }
        let agentStarts = call.agent.utterances.map(\.startSeconds)
        let floors = Spans.bridged(customer.utterances.map(\.span), gapSeconds: Self.floorGapSeconds,
                                   unlessStartIn: call.agent.utterances.map(\.span))
        let long = floors.filter { $0.durationSeconds >= minimum }
        // The agent's reply latched onto the end of the stretch (starting in its last half
        // second) answers the turn; it does not acknowledge while the customer talks.
        let silent = long.filter { turn in !agentStarts.contains { $0 >= turn.startSeconds && $0 < turn.endSeconds - Self.latchSeconds } }
        return verdict(
            passed: silent.isEmpty, value: Double(silent.count), unit: "unacknowledged turns", limit: .atMost(0),
            evidence: silent.map {
                Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                         note: String(format: "customer talks %.0f s with no acknowledgement", $0.durationSeconds))
            },
            valueText: "\(silent.count) of \(long.count) customer turns of \(Int(minimum)) s or more unacknowledged",
            limitText: "≤ 0 unacknowledged turns")
    }
}
