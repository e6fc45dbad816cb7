/// 通话时长: the call's length within a band (default 3–5 minutes).
public struct CallDurationRule: StandardRule {
    public let id = "call_duration"
    public let chineseName = "通话时长"
    public let englishName = "Call duration"
    public let defaultWeight = 5.0
    public let settings = [RuleSetting("call_duration_min_s", 180), RuleSetting("call_duration_max_s", 300)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        let lo = s["call_duration_min_s"], hi = s["call_duration_max_s"]
        return check(lo >= 0 && lo < hi, "call_duration_min_s (\(lo)) must be >= 0 and below call_duration_max_s (\(hi))")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let lo = s["call_duration_min_s"], hi = s["call_duration_max_s"]
        let d = call.durationSeconds
        return verdict(passed: d >= lo && d <= hi, value: d, unit: "s", limit: .range(lo, hi),
                       evidence: [Evidence(startSeconds: 0, endSeconds: d, note: "whole call")])
    }
}
