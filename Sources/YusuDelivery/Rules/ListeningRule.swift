import Foundation

/// 电话服务：保持"嗯""是的"等回应 (show you are listening): every stretch of at least
/// `listening_turn_s` (default 15 s) in which the customer holds the floor contains an
/// acknowledgement from the agent: a backchannel, or any agent speech starting inside it.
/// The stretches are the analysis's `CallMeasures.customerFloors` (the same ones the live
/// coach alerts on): the customer holds the floor across their own pauses up to
/// `DeliveryConfig.floorGapSeconds` (3 s) as long as the agent says nothing in them, and a
/// reply latched onto the end does not acknowledge. A call with no such stretch gives the rule
/// nothing to judge: not applicable, and out of the score.
///
/// Default 15 s: a quarter of a minute of talk without a sound from the agent is the point
/// at which callers ask "are you there?" (喂，在吗); service scripts ask for a response
/// every few sentences.
public struct ListeningRule: StandardRule {
    public struct Settings: RuleSettings {
        /// A customer stretch this long must hold an acknowledgement, seconds.
        public var turnSeconds = 15.0
        public static let fields: [SettingField<Settings>] = [
            .init("listening_turn_s", \.turnSeconds, .from(3, to: 3600, "s"))
        ]
        public init() {}
    }

    public let about = RuleAbout(id: "listening", chinese: "适时回应客户", english: "Active listening", weight: 5.0)
    public init() {}

    public func limitText(_ s: Settings) -> String {
        "an acknowledgement in every customer turn of \(show(s.turnSeconds)) s or more"
    }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        guard call.customer != nil, let floors = call.customerFloors else {
            return verdict(
                s, passed: nil, value: nil, unit: "unacknowledged turns", limit: .atMost(0),
                reason: "mono recording: the customer is not on a channel of their own")
        }
        let long = floors.filter { $0.durationSeconds >= s.turnSeconds }
        guard !long.isEmpty else {
            return verdict(
                s, passed: nil, value: nil, unit: "unacknowledged turns", limit: .atMost(0),
                reason: "not applicable: the customer never held the floor for \(show(s.turnSeconds)) s or more")
        }
        let silent = long.filter { !$0.acknowledged }
        return verdict(
            s, passed: silent.isEmpty, value: Double(silent.count), unit: "unacknowledged turns", limit: .atMost(0),
            evidence: silent.map {
                Evidence(
                    startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                    note: String(
                        format: "客户说了 %.0f 秒, 坐席未回应 · customer talks %.0f s with no acknowledgement",
                        $0.durationSeconds, $0.durationSeconds))
            },
            valueText:
                """
                \(silent.count) of \(long.count) customer turn\(long.count == 1 ? "" : "s") of \
                \(show(s.turnSeconds)) s or more unacknowledged
                """
        )
    }
}
