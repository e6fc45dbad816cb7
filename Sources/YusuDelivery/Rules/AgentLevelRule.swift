import Foundation

/// 音量适中: the agent's ITU-T P.56 active speech level within a band (default -35 to -15 dBov).
public struct AgentLevelRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Quietest level that passes, dBov.
        public var minimumDbov = -35.0
        /// Loudest level that passes, dBov.
        public var maximumDbov = -15.0
        enum CodingKeys: String, CodingKey, CaseIterable {
            case minimumDbov = "agent_level_min_dbov"
            case maximumDbov = "agent_level_max_dbov"
        }
        public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            minimumDbov = try c.value(.minimumDbov, or: d.minimumDbov)
            maximumDbov = try c.value(.maximumDbov, or: d.maximumDbov)
        }
        public func problems() -> [String] {
            check(
                minimumDbov < maximumDbov && maximumDbov <= 0 && minimumDbov >= -100,
                """
                agent_level_min_dbov (\(show(minimumDbov))) must be below agent_level_max_dbov \
                (\(show(maximumDbov))), both within -100...0 dBov
                """
            )
        }
    }

    public let id = "agent_level"
    public let chineseName = "音量适中"
    public let englishName = "Speaking level"
    public let defaultWeight = 10.0
    public init() {}

    public func limitText(_ s: Settings) -> String { "\(show(s.minimumDbov)) to \(show(s.maximumDbov)) dBov" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let level = call.agent.activeLevelDbov
        return verdict(
            s, passed: level.map { $0 >= s.minimumDbov && $0 <= s.maximumDbov }, value: level, unit: "dBov",
            limit: .range(s.minimumDbov, s.maximumDbov), reason: level == nil ? "the agent never speaks" : nil,
            valueText: level.map { String(format: "%.1f dBov", $0) })
    }
}
