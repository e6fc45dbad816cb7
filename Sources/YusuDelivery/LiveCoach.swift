// Coaching during the call: `CallStream`'s events as they are decided, judged against the
// standard, as lines (schema/live.v1.schema.json). The coach only reads measures and the
// standard's rules, as every report does; it decides nothing the score would not.
//
// Lines, each with the audio time it was emitted at (`emitted_at_s`):
//   started, utterance (the agent's: syllables, rate, ending), sinking_ending, filled_pause,
//   backchannel, interruption, hold, warning, summary (the score document, last);
//   alert: too_fast / too_slow / rate_ok (the agent's last 30 s of talk, with hysteresis;
//   said again every `reminderSeconds` while out of the band), talking_over_customer (the
//   agent over the customer for longer than a backchannel, while it goes on), hold_too_long
//   (the moment a silence reaches max_hold_s), no_acknowledgement (the moment a customer
//   floor reaches listening_turn_s without a sound from the agent).
import Foundation

/// What a line of `yusu live` is: its `type` (schema/live.v1.schema.json; the last line,
/// `summary`, is the score document and written apart).
public enum LiveLineType: String, Sendable, CaseIterable {
    case started, utterance, sinkingEnding = "sinking_ending", filledPause = "filled_pause", backchannel
    case interruption, hold, alert, warning
}

/// What an alert is about: its `kind`.
public enum LiveAlertKind: String, Sendable, CaseIterable {
    case tooFast = "too_fast", tooSlow = "too_slow", rateOk = "rate_ok"
    case talkingOverCustomer = "talking_over_customer", holdTooLong = "hold_too_long"
    case noAcknowledgement = "no_acknowledgement"
}

/// Where the agent's running rate stands against the band, as the coach last said it.
public enum LiveRateState: String, Sendable {
    case ok, fast, slow
}

extension LiveAlertKind {
    /// The rate alert that says `state`.
    init(saying state: LiveRateState) {
        switch state {
        case .ok: self = .rateOk
        case .fast: self = .tooFast
        case .slow: self = .tooSlow
        }
    }

    /// The state a rate alert says; nil for the other alerts.
    public var rateState: LiveRateState? {
        switch self {
        case .tooFast: return .fast
        case .tooSlow: return .slow
        case .rateOk: return .ok
        case .talkingOverCustomer, .holdTooLong, .noAcknowledgement: return nil
        }
    }
}

/// One line of `yusu live`: its type (and an alert's kind), the audio time it was emitted
/// at, its other fields in order.
public struct LiveLine: Sendable {
    public private(set) var type: LiveLineType
    /// An alert's kind; nil for every other line.
    public private(set) var alert: LiveAlertKind?
    public var emittedAtSeconds: Double
    public var fields: [(String, JSONValue)]

    public init(type: LiveLineType, emittedAtSeconds: Double, fields: [(String, JSONValue)]) {
        precondition(type != .alert, "an alert is made with init(alert:...), which names its kind")
        self.type = type
        self.emittedAtSeconds = emittedAtSeconds
        self.fields = fields
    }

    public init(alert: LiveAlertKind, emittedAtSeconds: Double, fields: [(String, JSONValue)]) {
        type = .alert
        self.alert = alert
        self.emittedAtSeconds = emittedAtSeconds
        self.fields = fields
    }

    /// The line as written, in order: `type`, `emitted_at_s`, an alert's `kind`, its fields.
    public var writtenFields: [(String, JSONValue)] {
        [("type", .str(type.rawValue)), ("emitted_at_s", .num(emittedAtSeconds))]
            + (alert.map { [("kind", .str($0.rawValue))] } ?? []) + fields
    }

    public subscript(_ key: String) -> JSONValue? { fields.first { $0.0 == key }?.1 }
}

/// The rate alerts' window and hysteresis.
public struct LiveRateSettings: Sendable, Equatable {
    /// The agent's most recent talk the rate is taken over, seconds.
    public var windowTalkSeconds = 30.0
    /// No rate alert before the agent has talked this long, seconds.
    public var minimumTalkSeconds = 20.0
    /// An alert is raised when the rate leaves the band by this share of its edge, and
    /// cleared when it is back inside the band (0.05: too fast above 126 for a 120 limit,
    /// fine again at 120).
    public var hysteresisShare = 0.05
    /// While the rate stays out of the band, its alert is said again after this much audio,
    /// seconds (at the next utterance's end); 0 says it once.
    public var reminderSeconds = 30.0
    public init() {}
}

public final class LiveCoach: CallStreamListener {
    public let standard: Standard
    public let delivery: DeliveryConfig
    public let rateSettings: LiveRateSettings
    private let emit: (LiveLine) -> Void

    private var agentUtterances: [(start: Double, end: Double, syllables: Int)] = []
    private var rateState = LiveRateState.ok
    private var rateAlertedAt = -Double.infinity
    private var alertedSilenceFrom: Double? = nil
    /// The latest report of a silence of hold length: since when, how long, heard at.
    public private(set) var lastSilence: (fromSeconds: Double, seconds: Double, at: Double)?
    private var alertedFloorFrom: Double? = nil
    /// The limits the timeline asks about at every frame of a silence or of the customer's
    /// floor, read from the standard once.
    private let holdLimitSeconds: Double
    private let listeningTurnSeconds: Double

    public init(
        standard: Standard = Standard(), delivery: DeliveryConfig = DeliveryConfig(),
        rateSettings: LiveRateSettings = LiveRateSettings(), emit: @escaping (LiveLine) -> Void
    ) {
        self.standard = standard
        self.delivery = delivery
        self.rateSettings = rateSettings
        self.emit = emit
        holdLimitSeconds = standard[HoldsRule.self].maximumSeconds
        listeningTurnSeconds = standard[ListeningRule.self].turnSeconds
    }

    static func r(_ x: Double, _ digits: Double = 1000) -> Double { (x * digits).rounded() / digits }
    private func n(_ x: Double, _ digits: Double = 1000) -> JSONValue { .num(Self.r(x, digits)) }
    private func n(_ x: Double?, _ digits: Double = 1000) -> JSONValue {
        x.map { .num(Self.r($0, digits)) } ?? .null
    }

    private func line(_ type: LiveLineType, _ at: Double, _ fields: [(String, JSONValue)]) {
        emit(LiveLine(type: type, emittedAtSeconds: Self.r(at), fields: fields))
    }

    private func alert(_ kind: LiveAlertKind, _ at: Double, _ fields: [(String, JSONValue)]) {
        emit(LiveLine(alert: kind, emittedAtSeconds: Self.r(at), fields: fields))
    }

    /// The first line: what is being listened to, and against which standard.
    public func started(sampleRateHz: Int, channels: Int, formatName: String, agentChannel: Int) {
        line(
            .started, 0,
            [
                ("sample_rate_hz", .whole(sampleRateHz)), ("channels", .whole(channels)),
                ("format", .str(formatName)),
                ("agent_channel", .whole(agentChannel)),
                ("standard", .fields([("name", .str(standard.name)), ("version", .whole(standard.version))])),
            ])
    }

    public func warning(_ message: String, at: Double) {
        line(.warning, at, [("message", .str(message))])
    }

    // MARK: CallStreamListener

    public func utterance(_ u: Utterance, party: Party, index: Int, at: Double) {
        guard party == .agent else { return }
        agentUtterances.append((u.startSeconds, u.endSeconds, u.syllables))
        let running = recentRate()
        let rule = FallingEndingsRule()
        let endings = standard[FallingEndingsRule.self]
        let sinking = rule.judge(u, endings)
        let duration = u.endSeconds - u.startSeconds
        line(
            .utterance, at,
            [
                ("party", .str(party.rawValue)), ("index", .whole(index)), ("start_s", n(u.startSeconds)),
                ("end_s", n(u.endSeconds)),
                ("syllables", .whole(u.syllables)),
                ("rate_cpm", duration > 0 ? n(Double(u.syllables) / duration * 60, 10) : .null),
                ("falling_ending", sinking.map { .boolean($0) } ?? .null),
                ("final_drop_st", n(u.finalDropSemitones, 100)),
                ("end_vs_median_st", n(u.endRelativeToMedianSemitones, 100)),
                ("rate_30s_cpm", running.map { n($0.rateCpm, 10) } ?? .null),
            ])
        if sinking == true {
            let span = u.endingSpan ?? u.span
            line(
                .sinkingEnding, at,
                [
                    ("start_s", n(span.startSeconds)), ("end_s", n(span.endSeconds)),
                    ("utterance_index", .whole(index)),
                    ("final_drop_st", n(u.finalDropSemitones, 100)),
                    ("end_vs_median_st", n(u.endRelativeToMedianSemitones, 100)),
                    ("limit_st", .num(-endings.belowRegisterSemitones)),
                ])
        }
        checkRate(running, at: at)
    }

    /// The rate over the agent's last `windowTalkSeconds` of talk: utterances, and the pauses
    /// inside a turn (shorter than the turn pause), taken back from the latest; the
    /// earliest utterance counted in part when it crosses the window's edge.
    /// - Returns: (rate, talk seconds, window start), nil before any talk.
    func recentRate() -> (rateCpm: Double, talkSeconds: Double, startSeconds: Double)? {
        var talk = 0.0
        var syllables = 0.0
        var start = agentUtterances.last?.start ?? 0
        var k = agentUtterances.count - 1
        let window = rateSettings.windowTalkSeconds
        while k >= 0 && talk < window {
            let u = agentUtterances[k]
            let length = u.end - u.start
            guard length > 0 else {
                k -= 1
                continue
            }
            if k < agentUtterances.count - 1 {
                let pause = agentUtterances[k + 1].start - u.end
                if pause > 0 && pause < delivery.turnPauseSeconds { talk += pause }
            }
            let share = min(1, max(0, (window - talk) / length))
            talk += length * share
            syllables += Double(u.syllables) * share
            start = u.end - length * share
            k -= 1
        }
        // Utterances wholly before the window are no longer needed.
        if k > 64 { agentUtterances.removeFirst(k - 8) }
        guard talk > 0 else { return nil }
        return (syllables / talk * 60, talk, start)
    }

    private func checkRate(_ running: (rateCpm: Double, talkSeconds: Double, startSeconds: Double)?, at: Double) {
        guard let (rate, talk, start) = running, talk >= rateSettings.minimumTalkSeconds else { return }
        let band = standard[SpeechRateRule.self]
        let margin = rateSettings.hysteresisShare
        var next = rateState
        switch rateState {
        case .ok:
            if rate > band.maximumCharactersPerMinute * (1 + margin) {
                next = .fast
            } else if rate < band.minimumCharactersPerMinute * (1 - margin) {
                next = .slow
            }
        case .fast:
            if rate <= band.maximumCharactersPerMinute {
                next = rate < band.minimumCharactersPerMinute * (1 - margin) ? .slow : .ok
            }
        case .slow:
            if rate >= band.minimumCharactersPerMinute {
                next = rate > band.maximumCharactersPerMinute * (1 + margin) ? .fast : .ok
            }
        }
        // A change is said at once; a rate still out of the band, again every reminderSeconds.
        let reminder =
            next == rateState && next != .ok && rateSettings.reminderSeconds > 0
            && at - rateAlertedAt >= rateSettings.reminderSeconds
        guard next != rateState || reminder else { return }
        rateState = next
        rateAlertedAt = at
        let limit: Double? =
            switch next {
            case .fast: band.maximumCharactersPerMinute
            case .slow: band.minimumCharactersPerMinute
            case .ok: nil
            }
        alert(
            LiveAlertKind(saying: next), at,
            [
                ("rate_30s_cpm", n(rate, 10)), ("talk_s", n(talk)), ("start_s", n(start)),
                ("end_s", n(agentUtterances.last?.end ?? start)),
                ("limit_cpm", limit.map { .num($0) } ?? .null),
                (
                    "band_cpm",
                    .fields([
                        ("min", .num(band.minimumCharactersPerMinute)),
                        ("max", .num(band.maximumCharactersPerMinute)),
                    ])
                ),
                ("reminder", .boolean(reminder)),
            ])
    }

    public func filledPause(_ span: TimeSpan, party: Party, at: Double) {
        guard party == .agent else { return }
        line(
            .filledPause, at,
            [("party", .str(party.rawValue)), ("start_s", n(span.startSeconds)), ("end_s", n(span.endSeconds))])
    }

    public func talkingOver(by: Party, atSeconds: Double, overlapSoFarSeconds: Double, at: Double) {
        guard by == .agent else { return }
        alert(
            .talkingOverCustomer, at,
            [
                ("at_s", n(atSeconds)),
                ("overlap_so_far_s", n(overlapSoFarSeconds)),
            ])
    }

    public func interruption(_ i: Interruption, at: Double) {
        line(
            .interruption, at,
            [("by", .str(i.by.rawValue)), ("at_s", n(i.atSeconds)), ("overlap_s", n(i.overlapSeconds))])
    }

    public func backchannel(_ b: Backchannel, at: Double) {
        line(
            .backchannel, at,
            [("by", .str(b.by.rawValue)), ("at_s", n(b.atSeconds)), ("duration_s", n(b.durationSeconds))])
    }

    public func hold(_ span: TimeSpan, at: Double) {
        line(
            .hold, at,
            [("start_s", n(span.startSeconds)), ("end_s", n(span.endSeconds)), ("duration_s", n(span.durationSeconds))])
    }

    public func silence(fromSeconds: Double, seconds: Double, at: Double) {
        lastSilence = (fromSeconds, seconds, at)
        let limit = holdLimitSeconds
        guard seconds >= limit, alertedSilenceFrom != fromSeconds else { return }
        alertedSilenceFrom = fromSeconds
        alert(
            .holdTooLong, at,
            [
                ("start_s", n(fromSeconds)), ("so_far_s", n(seconds)),
                ("limit_s", .num(limit)),
            ])
    }

    public func customerFloor(fromSeconds: Double, seconds: Double, acknowledged: Bool, at: Double) {
        let limit = listeningTurnSeconds
        guard !acknowledged, seconds >= limit, alertedFloorFrom != fromSeconds else { return }
        alertedFloorFrom = fromSeconds
        alert(
            .noAcknowledgement, at,
            [
                ("start_s", n(fromSeconds)), ("so_far_s", n(seconds)),
                ("limit_s", .num(limit)),
            ])
    }
}
