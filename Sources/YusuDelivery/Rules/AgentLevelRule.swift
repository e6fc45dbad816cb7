/// 音量适中: the agent's ITU-T P.56 active speech level within a band (default -35 to -15 dBov).
public struct AgentLevelRule: StandardRule {
    public let id = "agent_level"
    public let chineseName = "音量适中"
    public let englishName = "Speaking level"
    public let defaultWeight = 10.0
    public let settings = [RuleSetting("agent_level_min_dbov", -35), RuleSetting("agent_level_max_dbov", -15)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        let lo = s["agent_level_min_dbov"], hi = s["agent_level_max_dbov"]
        return check(lo < hi && hi <= 0 && lo >= -100,
                     "agent_level_min_dbov (\(lo)) must be below agent_level_max_dbov (\(hi)), both within -100...0 dBov")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let lo = s["agent_level_min_dbov"], hi = s["agent_level_max_dbov"]
        let level = call.agent.activeLevelDbov
        return verdict(passed: level.map { $0 >= lo && $0 <= hi }, value: level, unit: "dBov", limit: .range(lo, hi),
                       reason: level == nil ? "the agent never speaks" : nil)
    }
}
