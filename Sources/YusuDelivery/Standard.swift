import Foundation

/// The service standard a call is judged against. Defaults are the common Chinese
/// call-centre norms; every field can be overridden from a JSON file (`Standard.load`),
/// which rejects unknown keys and bad values with a message.
public struct Standard: Sendable, Equatable, Codable {
    /// A name and version recorded with every score (batch runs key on it).
    public var name: String = "default"
    public var version: Int = 1
    /// 语速适中: agent speech rate band, characters per minute.
    public var speechRateMinCharactersPerMinute: Double = 100
    public var speechRateMaxCharactersPerMinute: Double = 120
    /// 句尾不得下沉: largest share of the agent's measured endings that may fall, 0...1.
    public var maxFallingEndingShare: Double = 0
    /// 句尾不得下沉: an ending sinks when its last voiced stretch ends at least this far
    /// below the speaker's median pitch, semitones (and does not end on a rise).
    public var sinkingEndingBelowRegisterSemitones: Double = DeliveryConfig().fallingMinimumBelowMedianSemitones
    /// 不打断客户: most agent interruptions allowed.
    public var maxAgentInterruptions: Int = 0
    /// 通话时长: call duration band, seconds.
    public var callDurationMinSeconds: Double = 180
    public var callDurationMaxSeconds: Double = 300
    /// 音量适中: agent active speech level band, dBov.
    public var agentLevelMinDbov: Double = -35
    public var agentLevelMaxDbov: Double = -15
    /// 等待超过1分钟需再次反馈: longest hold / dead air allowed, seconds.
    public var maxHoldSeconds: Double = 60
    /// 单句不超过20字: most syllables in one agent utterance.
    public var maxUtteranceSyllables: Int = 20
    /// Weight of each rule in the 0–100 score, by rule id; rules missing here weigh 0.
    public var weights: [String: Double] = Rule.defaultWeights

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, version
        case speechRateMinCharactersPerMinute = "speech_rate_min_cpm"
        case speechRateMaxCharactersPerMinute = "speech_rate_max_cpm"
        case maxFallingEndingShare = "max_falling_ending_share"
        case sinkingEndingBelowRegisterSemitones = "sinking_ending_below_register_st"
        case maxAgentInterruptions = "max_agent_interruptions"
        case callDurationMinSeconds = "call_duration_min_s"
        case callDurationMaxSeconds = "call_duration_max_s"
        case agentLevelMinDbov = "agent_level_min_dbov"
        case agentLevelMaxDbov = "agent_level_max_dbov"
        case maxHoldSeconds = "max_hold_s"
        case maxUtteranceSyllables = "max_utterance_syllables"
        case weights
    }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? version
        speechRateMinCharactersPerMinute = try c.decodeIfPresent(Double.self, forKey: .speechRateMinCharactersPerMinute) ?? speechRateMinCharactersPerMinute
        speechRateMaxCharactersPerMinute = try c.decodeIfPresent(Double.self, forKey: .speechRateMaxCharactersPerMinute) ?? speechRateMaxCharactersPerMinute
        maxFallingEndingShare = try c.decodeIfPresent(Double.self, forKey: .maxFallingEndingShare) ?? maxFallingEndingShare
        sinkingEndingBelowRegisterSemitones = try c.decodeIfPresent(Double.self, forKey: .sinkingEndingBelowRegisterSemitones) ?? sinkingEndingBelowRegisterSemitones
        maxAgentInterruptions = try c.decodeIfPresent(Int.self, forKey: .maxAgentInterruptions) ?? maxAgentInterruptions
        callDurationMinSeconds = try c.decodeIfPresent(Double.self, forKey: .callDurationMinSeconds) ?? callDurationMinSeconds
        callDurationMaxSeconds = try c.decodeIfPresent(Double.self, forKey: .callDurationMaxSeconds) ?? callDurationMaxSeconds
        agentLevelMinDbov = try c.decodeIfPresent(Double.self, forKey: .agentLevelMinDbov) ?? agentLevelMinDbov
        agentLevelMaxDbov = try c.decodeIfPresent(Double.self, forKey: .agentLevelMaxDbov) ?? agentLevelMaxDbov
        maxHoldSeconds = try c.decodeIfPresent(Double.self, forKey: .maxHoldSeconds) ?? maxHoldSeconds
        maxUtteranceSyllables = try c.decodeIfPresent(Int.self, forKey: .maxUtteranceSyllables) ?? maxUtteranceSyllables
        if let given = try c.decodeIfPresent([String: Double].self, forKey: .weights) {
            weights = Rule.defaultWeights.merging(given) { _, new in new }
        }
    }

    /// Problems with the values, one message each; empty when the standard is usable.
    public func problems() -> [String] {
        var p: [String] = []
        func check(_ ok: Bool, _ message: String) { if !ok { p.append(message) } }
        check(speechRateMinCharactersPerMinute > 0 && speechRateMinCharactersPerMinute < speechRateMaxCharactersPerMinute,
              "speech_rate_min_cpm (\(speechRateMinCharactersPerMinute)) must be > 0 and below speech_rate_max_cpm (\(speechRateMaxCharactersPerMinute))")
        check(speechRateMaxCharactersPerMinute <= 1000, "speech_rate_max_cpm (\(speechRateMaxCharactersPerMinute)) must be at most 1000")
        check((0...1).contains(maxFallingEndingShare), "max_falling_ending_share (\(maxFallingEndingShare)) must be between 0 and 1")
        check((0...12).contains(sinkingEndingBelowRegisterSemitones),
              "sinking_ending_below_register_st (\(sinkingEndingBelowRegisterSemitones)) must be between 0 and 12 semitones")
        check(maxAgentInterruptions >= 0, "max_agent_interruptions (\(maxAgentInterruptions)) must be >= 0")
        check(callDurationMinSeconds >= 0 && callDurationMinSeconds < callDurationMaxSeconds,
              "call_duration_min_s (\(callDurationMinSeconds)) must be >= 0 and below call_duration_max_s (\(callDurationMaxSeconds))")
        check(agentLevelMinDbov < agentLevelMaxDbov && agentLevelMaxDbov <= 0 && agentLevelMinDbov >= -100,
              "agent_level_min_dbov (\(agentLevelMinDbov)) must be below agent_level_max_dbov (\(agentLevelMaxDbov)), both within -100...0 dBov")
        check(maxHoldSeconds >= 10, "max_hold_s (\(maxHoldSeconds)) must be at least 10 (holds are silences of 10 s or more)")
        check(maxUtteranceSyllables >= 1, "max_utterance_syllables (\(maxUtteranceSyllables)) must be >= 1")
        check(version >= 1, "version (\(version)) must be >= 1")
        for (key, weight) in weights.sorted(by: { $0.key < $1.key }) {
            check(Rule(rawValue: key) != nil, "weights: unknown rule \"\(key)\" (rules: \(Rule.allCases.map(\.rawValue).joined(separator: ", ")))")
            check(weight >= 0 && weight.isFinite, "weights.\(key) (\(weight)) must be a finite number >= 0")
        }
        check(weights.values.reduce(0, +) > 0, "weights must not all be 0")
        return p
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reasons: [String]
        public var description: String { "\(path): invalid standard: " + reasons.joined(separator: "; ") }
    }

    /// Reads a standard from a JSON file: unknown keys and bad values are errors.
    public static func load(path: String) throws -> Standard {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reasons: ["cannot read the file"])
        }
        return try decode(data, path: path)
    }

    /// Decodes and validates; `path` only names the source in messages.
    public static func decode(_ data: Data, path: String = "standard") throws -> Standard {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LoadError(path: path, reasons: ["not valid JSON (\(error.localizedDescription))"])
        }
        guard let dictionary = object as? [String: Any] else {
            throw LoadError(path: path, reasons: ["expected a JSON object of settings"])
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let unknown = dictionary.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw LoadError(path: path, reasons: unknown.map { "unknown key \"\($0)\" (known: \(known.sorted().joined(separator: ", ")))" })
        }
        let standard: Standard
        do { standard = try JSONDecoder().decode(Standard.self, from: data) } catch let DecodingError.typeMismatch(type, context) {
            throw LoadError(path: path, reasons: ["\(context.codingPath.map(\.stringValue).joined(separator: ".")): expected \(type)"])
        } catch {
            throw LoadError(path: path, reasons: ["\(error)"])
        }
        let problems = standard.problems()
        if !problems.isEmpty { throw LoadError(path: path, reasons: problems) }
        return standard
    }
}

/// The rules of the standard, by stable id.
public enum Rule: String, Sendable, Codable, CaseIterable {
    case speechRate = "speech_rate"
    case fallingEndings = "falling_endings"
    case agentInterruptions = "agent_interruptions"
    case callDuration = "call_duration"
    case agentLevel = "agent_level"
    case holds = "holds"
    case longUtterances = "long_utterances"

    public var chineseName: String {
        switch self {
        case .speechRate: return "语速适中"
        case .fallingEndings: return "句尾不得下沉"
        case .agentInterruptions: return "不打断客户"
        case .callDuration: return "通话时长"
        case .agentLevel: return "音量适中"
        case .holds: return "等待不超过1分钟"
        case .longUtterances: return "单句不超过20字"
        }
    }

    public var englishName: String {
        switch self {
        case .speechRate: return "Speech rate"
        case .fallingEndings: return "No sinking endings"
        case .agentInterruptions: return "No interrupting the customer"
        case .callDuration: return "Call duration"
        case .agentLevel: return "Speaking level"
        case .holds: return "Holds and dead air"
        case .longUtterances: return "Short sentences"
        }
    }

    /// Default score weights (sum 100).
    public static let defaultWeights: [String: Double] = [
        "speech_rate": 25, "falling_endings": 15, "agent_interruptions": 20, "call_duration": 5,
        "agent_level": 10, "holds": 15, "long_utterances": 10,
    ]
}
