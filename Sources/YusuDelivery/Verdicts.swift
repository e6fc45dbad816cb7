/// A moment a supervisor can jump to, with what happened there.
public struct Evidence: Sendable, Equatable, Codable {
    public var startSeconds: Double
    public var endSeconds: Double
    public var note: String

    public init(startSeconds: Double, endSeconds: Double, note: String) {
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
        self.note = note
    }
}

/// The limit a value is compared with.
public enum Limit: Sendable, Equatable {
    case range(Double, Double)
    case atMost(Double)
}

/// One rule's outcome: passed, failed, or not measurable (`passed == nil`).
public struct Verdict: Sendable, Equatable {
    public var rule: Rule
    public var passed: Bool?
    public var value: Double?
    public var unit: String
    public var limit: Limit
    public var evidence: [Evidence]
    /// Why the rule could not be measured, when `passed` is nil.
    public var reason: String?
}

/// The verdicts and the 0–100 score of a call.
public struct Scorecard: Sendable {
    public var standard: Standard
    public var verdicts: [Verdict]
    /// Weighted share of passed rules among the measurable ones, 0–100; nil when none was measurable.
    public var score: Double?
}

extension Standard {
    /// Judges a call. Rules whose measure is missing are "not measurable" and leave the score.
    public func evaluate(_ call: CallMeasures) -> Scorecard {
        var verdicts: [Verdict] = []
        let agent = call.agent

        // 语速适中
        let rate = agent.speechRateCharactersPerMinute
        verdicts.append(Verdict(
            rule: .speechRate, passed: rate.map { $0 >= speechRateMinCharactersPerMinute && $0 <= speechRateMaxCharactersPerMinute },
            value: rate, unit: "字/分钟 (cpm)", limit: .range(speechRateMinCharactersPerMinute, speechRateMaxCharactersPerMinute),
            evidence: Self.rateEvidence(agent, tooSlow: rate.map { $0 < speechRateMinCharactersPerMinute } ?? false),
            reason: rate == nil ? "the agent never speaks" : nil))

        // 句尾不得下沉
        let measured = agent.utterances.filter { $0.fallingEnding != nil }
        let falling = measured.filter { $0.fallingEnding == true }
        let share: Double? = measured.isEmpty ? nil : Double(falling.count) / Double(measured.count)
        verdicts.append(Verdict(
            rule: .fallingEndings, passed: share.map { $0 <= maxFallingEndingShare + 1e-9 }, value: share, unit: "share of endings",
            limit: .atMost(maxFallingEndingShare),
            evidence: falling.map {
                let s = $0.endingSpan ?? $0.span
                return Evidence(startSeconds: s.startSeconds, endSeconds: s.endSeconds,
                                note: String(format: "ending drops %.1f st, ends %.1f st below median", $0.finalDropSemitones ?? 0, -($0.endRelativeToMedianSemitones ?? 0)))
            },
            reason: share == nil ? "no voiced utterance endings to measure" : nil))

        // 不打断客户
        let agentInterruptions = call.interruptions?.filter { $0.by == .agent }
        verdicts.append(Verdict(
            rule: .agentInterruptions, passed: agentInterruptions.map { $0.count <= maxAgentInterruptions },
            value: agentInterruptions.map { Double($0.count) }, unit: "interruptions", limit: .atMost(Double(maxAgentInterruptions)),
            evidence: (agentInterruptions ?? []).map {
                Evidence(startSeconds: $0.atSeconds, endSeconds: $0.atSeconds + $0.overlapSeconds, note: String(format: "agent talks over the customer for %.1f s", $0.overlapSeconds))
            },
            reason: agentInterruptions == nil ? "mono recording: the customer is not on a channel of their own" : nil))

        // 通话时长
        verdicts.append(Verdict(
            rule: .callDuration, passed: call.durationSeconds >= callDurationMinSeconds && call.durationSeconds <= callDurationMaxSeconds,
            value: call.durationSeconds, unit: "s", limit: .range(callDurationMinSeconds, callDurationMaxSeconds),
            evidence: [Evidence(startSeconds: 0, endSeconds: call.durationSeconds, note: "whole call")], reason: nil))

        // 音量适中
        let level = agent.activeLevelDbov
        verdicts.append(Verdict(
            rule: .agentLevel, passed: level.map { $0 >= agentLevelMinDbov && $0 <= agentLevelMaxDbov }, value: level, unit: "dBov",
            limit: .range(agentLevelMinDbov, agentLevelMaxDbov), evidence: [],
            reason: level == nil ? "the agent never speaks" : nil))

        // 等待超过1分钟需再次反馈
        let longest = call.holds.map(\.durationSeconds).max() ?? 0
        verdicts.append(Verdict(
            rule: .holds, passed: longest <= maxHoldSeconds, value: longest, unit: "s", limit: .atMost(maxHoldSeconds),
            evidence: call.holds.filter { $0.durationSeconds > maxHoldSeconds }.map {
                Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds, note: String(format: "nobody speaks for %.0f s", $0.durationSeconds))
            }, reason: nil))

        // 单句不超过20字
        let long = agent.utterances.filter { $0.syllables > maxUtteranceSyllables }
        verdicts.append(Verdict(
            rule: .longUtterances, passed: long.isEmpty, value: Double(long.count), unit: "utterances over \(maxUtteranceSyllables) 字",
            limit: .atMost(0),
            evidence: long.map { Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds, note: "\($0.syllables) syllables") },
            reason: nil))

        var earned = 0.0, possible = 0.0
        for v in verdicts {
            guard let passed = v.passed else { continue }
            let w = weights[v.rule.rawValue] ?? 0
            possible += w
            if passed { earned += w }
        }
        return Scorecard(standard: self, verdicts: verdicts, score: possible > 0 ? (earned / possible * 100) : nil)
    }

    /// Where the rate is furthest out: the agent's three fastest turns (slowest when the call
    /// is too slow), each with its own rate. Turns under 2 s (a backchannel, a "好的") have
    /// no meaningful rate and are left out unless nothing else is there.
    static func rateEvidence(_ agent: SpeakerMeasures, tooSlow: Bool) -> [Evidence] {
        let rated: [(TimeSpan, Double)] = agent.turns.map { turn in
            let syllables = agent.utterances.filter { turn.contains($0.startSeconds) }.reduce(0) { $0 + $1.syllables }
            return (turn, Double(syllables) / max(turn.durationSeconds, 1e-9) * 60)
        }
        let long = rated.filter { $0.0.durationSeconds >= 2 }
        let pool = long.isEmpty ? rated : long
        let ordered = pool.sorted { tooSlow ? $0.1 < $1.1 : $0.1 > $1.1 }
        return ordered.prefix(3).sorted { $0.0.startSeconds < $1.0.startSeconds }.map {
            Evidence(startSeconds: $0.0.startSeconds, endSeconds: $0.0.endSeconds,
                     note: String(format: "agent turn at %.0f 字/分钟 (%@)", $0.1, tooSlow ? "one of the slowest" : "one of the fastest"))
        }
    }
}
