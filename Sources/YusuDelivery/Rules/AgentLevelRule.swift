import Foundation

/// 音量适中: the agent's ITU-T P.56 active speech level within a band (default -35 to -15 dBov).
public struct AgentLevelRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Quietest level that passes, dBov.
        public var minimumDbov = -35.0
        /// Loudest level that passes, dBov.
        public var maximumDbov = -15.0
        public static let fields = SettingField<Settings>.band(
            "agent_level_min_dbov", \.minimumDbov, "agent_level_max_dbov", \.maximumDbov, .from(-100, to: 0, "dBov"))
        public init() {}
    }

    public let about = RuleAbout(id: "agent_level", chinese: "音量适中", english: "Speaking level", weight: 10.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "\(show(s.minimumDbov)) to \(show(s.maximumDbov)) dBov" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        verdict(
            s, measure: call.agent.activeLevelDbov, within: .range(s.minimumDbov, s.maximumDbov), unit: "dBov",
            missing: "the agent never speaks"
        ) { String(format: "%.1f dBov", $0) }
    }
}
