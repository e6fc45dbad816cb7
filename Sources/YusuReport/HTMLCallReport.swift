import Foundation
import YusuDelivery
import YusuSignal

/// One call as a self-contained HTML page: verdicts, a timeline of both parties, the agent's
/// pitch contour, speech rate over time, levels, and every event with its time.
///
/// The markup is Templates/call.mustache and its partials; this file works out what they
/// show: which utterances are flagged, where each mark stands on a chart (SVG units, one
/// decimal), and every text, formatted. The templates escape every value.
public enum HTMLCallReport {
    /// Width of the drawing area in SVG units; the SVGs scale to the page.
    static let width = 1000.0
    static let left = 70.0

    /// Where the page's player finds the recording.
    public enum Audio: Sendable, Equatable {
        /// A URL (relative to the page, or file://) of a file the browser can play.
        case link(String)
        /// The bytes of a browser-playable file (WAV PCM, FLAC, OGG), embedded as a data URL.
        case embedded(mimeType: String, data: Data)
    }

    /// - Parameters:
    ///   - frame: what a site around the page puts above it (the service's navigation), and
    ///     the style it needs.
    public static func render(
        _ analysis: CallAnalysis, _ card: Scorecard, title: String? = nil, audio: Audio? = nil,
        frame: (html: String, style: String)? = nil
    ) -> String {
        let m = analysis.measures
        let name = (m.file as NSString).lastPathComponent
        let page = Page(
            frameHTML: frame?.html ?? "", heading: title ?? name, formatName: m.formatName,
            sampleRateHz: String(m.sampleRateHz),
            layout: m.channels == 2 ? "stereo (agent = channel \(m.agent.channel))" : "mono (agent only)",
            duration: HTML.clock(m.durationSeconds), standardName: card.standard.name,
            standardVersion: String(card.standard.version), score: Scorecard.scoreText(card.score),
            warnings: m.warnings, player: audio.map(Player.init), verdicts: card.verdicts.map { VerdictRow($0, card) },
            timeline: timeline(m, card: card), medianF0: m.agent.medianF0Hz.map { String(format: "%.0f", $0) },
            pitch: pitchContour(analysis, card: card), rate: rateChart(analysis, card: card),
            levels: levels(m, card: card), events: events(m, card: card))
        return HTML.page(
            title: "Yusu — \(title ?? name)", body: Templates.render("call", page), extraStyle: frame?.style ?? "")
    }

    /// The fields of Templates/call.mustache.
    struct Page: Encodable {
        let frameHTML, heading, formatName, sampleRateHz, layout, duration, standardName, standardVersion: String
        let score: String
        let warnings: [String]
        let player: Player?
        let verdicts: [VerdictRow]
        let timeline: Timeline
        let medianF0: String?
        let pitch: PitchChart
        let rate: RateChart
        let levels: LevelChart
        let events: [Event]
    }

    // MARK: Player

    /// The recording on the page (Templates/player.mustache), and a few lines that make every
    /// time a way to listen.
    struct Player: Encodable {
        let source: String
        init(_ audio: Audio) {
            switch audio {
            case .link(let url): source = url
            case .embedded(let mime, let data): source = "data:\(mime);base64,\(data.base64EncodedString())"
            }
        }
    }

    // MARK: Verdicts

    /// A failed verdict's evidence: a time to listen from and what happens there.
    struct EvidenceLink: Encodable {
        let first: Bool
        let at, clock, note: String
    }

    struct VerdictRow: Encodable {
        let rule, passed, nearLimit, chineseName, englishName, resultClass, result: String
        /// The limit lies inside the measure's 90% interval: said beside the point verdict.
        let near: Bool
        let value, limit: String
        let unweighted: Bool
        /// Why the rule could not judge, or a passing rule's note; a failed rule shows its
        /// evidence instead (the first six, and how many more are below).
        let reason: String?
        let evidence: [EvidenceLink]
        let moreEvidence: String?

        init(_ v: Verdict, _ card: Scorecard) {
            rule = v.rule
            passed = v.passed.map { $0 ? "true" : "false" } ?? "null"
            nearLimit = String(v.nearLimit)
            chineseName = v.chineseName
            englishName = v.englishName
            near = v.nearLimit && v.passed != nil
            let (outcome, label) = v.passed == nil ? ("na", "n/a") : (v.passed! ? ("pass", "PASS") : ("fail", "FAIL"))
            (resultClass, result) = (near ? outcome + " near" : outcome, label)
            value = v.valueText
            limit = v.limitText
            unweighted = (card.standard.weights[v.rule] ?? 0) == 0
            let failed = v.passed == false
            reason = failed ? nil : v.reason
            evidence =
                failed
                ? v.evidence.prefix(6).enumerated().map {
                    let link = TimeLink($1.startSeconds)
                    return EvidenceLink(first: $0 == 0, at: link.at, clock: link.clock, note: $1.note)
                } : []
            moreEvidence = failed && v.evidence.count > 6 ? String(v.evidence.count - 6) : nil
        }
    }

    // MARK: Charts

    static func x(_ t: Double, _ duration: Double) -> Double { left + (width - left - 10) * t / max(duration, 1e-9) }

    /// A time axis under a chart (Templates/axis.mustache): a line and a clock time every 10,
    /// 30, 60 or 120 s, by the call's length.
    struct Axis: Encodable {
        struct Tick: Encodable { let x, top, bottom, labelY, clock: String }
        let ticks: [Tick]
        init(_ duration: Double, top: Double, bottom: Double) {
            let step = duration > 600 ? 120.0 : (duration > 240 ? 60.0 : (duration > 90 ? 30.0 : 10.0))
            var ticks: [Tick] = []
            var t = 0.0
            while t <= duration + 1e-9 {
                ticks.append(
                    Tick(
                        x: HTML.n(HTMLCallReport.x(t, duration)), top: HTML.n(top), bottom: HTML.n(bottom),
                        labelY: HTML.n(bottom + 14), clock: HTML.clock(t)))
                t += step
            }
            self.ticks = ticks
        }
    }

    /// A rectangle's place in SVG units, formatted.
    struct Box: Encodable {
        let x, y, width, height: String
        init(x: Double, y: Double, width: Double, height: Double) {
            (self.x, self.y, self.width, self.height) = (HTML.n(x), HTML.n(y), HTML.n(width), HTML.n(height))
        }
    }

    /// The agent utterances a verdict flags.
    static func flagged(_ card: Scorecard, _ rule: String) -> Set<Int> {
        Set(card.verdict(rule)?.flaggedUtterances ?? [])
    }

    // MARK: Timeline

    /// Both parties' speech on one time axis, with holds, filled pauses, sinking endings,
    /// interruptions and backchannels marked (Templates/timeline.mustache).
    struct Timeline: Encodable {
        struct Hold: Encodable { let x, width, start, end, seconds: String }
        struct Speech: Encodable {
            let party, at, x, y, width, height, colour, start, end, syllables: String
            let long: Bool
        }
        struct FilledPause: Encodable { let at, x, y, width, start: String }
        struct SinkingMark: Encodable { let x, y, end: String }
        struct Interruption: Encodable { let x, y, width, height, by, start, overlap: String }
        struct Backchannel: Encodable { let x, y, by, start: String }
        let width: String
        let axis: Axis
        let agentLabelY, customerLabelY: String
        let holds: [Hold]
        let utterances: [Speech]
        let filledPauses: [FilledPause]
        let sinkingMarks: [SinkingMark]
        let interruptions: [Interruption]
        let backchannels: [Backchannel]
        /// The long-utterance rule's limit, for the legend.
        let longLimit: String
    }

    static func timeline(_ m: CallMeasures, card: Scorecard) -> Timeline {
        let longOnes = flagged(card, LongUtterancesRule().id)
        let sinking = flagged(card, FallingEndingsRule().id)
        let d = m.durationSeconds
        let laneAgent = 30.0
        let laneCustomer = 80.0
        let laneHeight = 26.0
        func speech(_ s: SpeakerMeasures?, y: Double, colour: String) -> [Timeline.Speech] {
            guard let s else { return [] }
            let party = s.party.rawValue
            return s.utterances.enumerated().map { k, u in
                Timeline.Speech(
                    party: party, at: String(format: "%.2f", u.startSeconds), x: HTML.n(x(u.startSeconds, d)),
                    y: HTML.n(y), width: HTML.n(max(1, x(u.endSeconds, d) - x(u.startSeconds, d))),
                    height: HTML.n(laneHeight), colour: colour, start: HTML.clock(u.startSeconds),
                    end: HTML.clock(u.endSeconds), syllables: String(u.syllables),
                    long: s.party == .agent && longOnes.contains(k))
            }
        }
        return Timeline(
            width: HTML.n(width), axis: Axis(d, top: 18, bottom: 120), agentLabelY: HTML.n(laneAgent + 17),
            customerLabelY: HTML.n(laneCustomer + 17),
            holds: m.holds.map {
                Timeline.Hold(
                    x: HTML.n(x($0.startSeconds, d)), width: HTML.n(x($0.endSeconds, d) - x($0.startSeconds, d)),
                    start: HTML.clock($0.startSeconds), end: HTML.clock($0.endSeconds),
                    seconds: String(format: "%.0f", $0.durationSeconds))
            },
            utterances: speech(m.agent, y: laneAgent, colour: "#2f6db5")
                + speech(m.customer, y: laneCustomer, colour: "#c77c0e"),
            filledPauses: m.agent.filledPauses.map {
                Timeline.FilledPause(
                    at: String(format: "%.2f", $0.startSeconds), x: HTML.n(x($0.startSeconds, d)),
                    y: HTML.n(laneAgent + laneHeight - 7),
                    width: HTML.n(max(3, x($0.endSeconds, d) - x($0.startSeconds, d))),
                    start: HTML.clock($0.startSeconds))
            },
            sinkingMarks: m.agent.utterances.enumerated().filter { sinking.contains($0.offset) }.map {
                Timeline.SinkingMark(
                    x: HTML.n(x($0.element.endSeconds, d)), y: HTML.n(laneAgent - 2),
                    end: HTML.clock($0.element.endSeconds))
            },
            interruptions: (m.interruptions ?? []).map {
                Timeline.Interruption(
                    x: HTML.n(x($0.atSeconds, d)), y: HTML.n(($0.by == .agent ? laneAgent : laneCustomer) - 4),
                    width: HTML.n(max(2, x($0.atSeconds + $0.overlapSeconds, d) - x($0.atSeconds, d))),
                    height: HTML.n(laneHeight + 8), by: $0.by.rawValue, start: HTML.clock($0.atSeconds),
                    overlap: String(format: "%.1f", $0.overlapSeconds))
            },
            backchannels: (m.backchannels ?? []).map {
                Timeline.Backchannel(
                    x: HTML.n(x($0.atSeconds, d)),
                    y: HTML.n(($0.by == .agent ? laneAgent : laneCustomer) + laneHeight + 6), by: $0.by.rawValue,
                    start: HTML.clock($0.atSeconds))
            },
            longLimit: card.verdict(LongUtterancesRule().id)?.limitText ?? "")
    }

    // MARK: Pitch

    /// The agent's pitch in semitones over their median, ±12 st, with the sinking endings
    /// shaded (Templates/pitch.mustache).
    struct PitchChart: Encodable {
        struct GridLine: Encodable { let x1, x2, y, stroke, labelX, labelY, label: String }
        struct Sinking: Encodable { let x, y, width, height, start, end, label: String }
        let width, height: String
        let axis: Axis
        let grid: [GridLine]
        /// The SVG path, one point per 50 ms of voiced speech; nil without voiced agent speech.
        let contour: String?
        let middleX: String
        let sinking: [Sinking]
    }

    static func pitchContour(_ analysis: CallAnalysis, card: Scorecard) -> PitchChart {
        let m = analysis.measures
        let d = m.durationSeconds
        let height = 180.0
        let top = 10.0
        let range = 12.0
        func y(_ st: Double) -> Double {
            top + (height - top - 20) * (range - max(-range, min(range, st))) / (2 * range)
        }
        let grid = stride(from: -12.0, through: 12.0, by: 6.0).map { st in
            PitchChart.GridLine(
                x1: HTML.n(left), x2: HTML.n(width - 10), y: HTML.n(y(st)), stroke: st == 0 ? "#888" : "#eee",
                labelX: HTML.n(left - 6), labelY: HTML.n(y(st) + 4), label: "\(st > 0 ? "+" : "")\(Int(st))")
        }
        var contour: String?
        if let median = m.agent.medianF0Hz, !analysis.agentContour.isEmpty {
            // Points joined within voiced runs.
            var path = ""
            var previous = -1.0
            for point in analysis.agentContour {
                let t = Double(point.timeSeconds)
                let st = 12 * log2(Double(point.f0Hz) / median)
                path += "\(previous >= 0 && t - previous < 0.06 ? "L" : "M")\(HTML.n(x(t, d))) \(HTML.n(y(st))) "
                previous = t
            }
            contour = path
        }
        let sinking = flagged(card, FallingEndingsRule().id).sorted().map { k in
            let u = m.agent.utterances[k]
            let s = u.endingSpan ?? u.span
            return PitchChart.Sinking(
                x: HTML.n(x(s.startSeconds, d) - 1), y: HTML.n(top),
                width: HTML.n(max(3, x(s.endSeconds, d) - x(s.startSeconds, d) + 2)),
                height: HTML.n(height - top - 20), start: HTML.clock(s.startSeconds), end: HTML.clock(s.endSeconds),
                label: u.shownEnding?.endLabel ?? "")
        }
        return PitchChart(
            width: HTML.n(width), height: HTML.n(height + 10), axis: Axis(d, top: top, bottom: height - 10),
            grid: grid, contour: contour, middleX: HTML.n(width / 2), sinking: sinking)
    }

    // MARK: Speech rate

    /// The agent's rate in each rate window (`CallAnalysis.rateWindowSeconds`), against the standard's band
    /// (Templates/rate.mustache).
    struct RateChart: Encodable {
        struct Label: Encodable { let x, y, label: String }
        struct Window: Encodable { let rate, x, y, width, height, fill, start, end, rounded: String }
        struct Limit: Encodable { let x1, x2, y: String }
        let width, height: String
        /// The windows' length, seconds, as the heading names it.
        let windowSeconds: String
        let axis: Axis
        let scale: [Label]
        let windows: [Window]
        let band: Box
        let bandText: String
        let limits: [Limit]
        let bandLabelX, bandLabelY: String
    }

    static func rateChart(_ analysis: CallAnalysis, card: Scorecard) -> RateChart {
        let d = analysis.measures.durationSeconds
        let windows = analysis.agentRateWindows()
        let height = 180.0
        let top = 10.0
        let maxRate = max(300.0, (windows.compactMap(\.rate).max() ?? 0) * 1.1)
        func y(_ r: Double) -> Double { top + (height - top - 20) * (1 - min(r, maxRate) / maxRate) }
        let rate = card.standard[SpeechRateRule.self]
        let (lo, hi) = (rate.minimumCharactersPerMinute, rate.maximumCharactersPerMinute)
        return RateChart(
            width: HTML.n(width), height: HTML.n(height + 10),
            windowSeconds: Verdict.trim(CallAnalysis.rateWindowSeconds),
            axis: Axis(d, top: top, bottom: height - 10),
            scale: stride(from: 0.0, through: maxRate, by: 100).map {
                RateChart.Label(x: HTML.n(left - 6), y: HTML.n(y($0) + 4), label: String(Int($0)))
            },
            windows: windows.compactMap { w in
                guard let rate = w.rate else { return nil }
                let x0 = x(w.start + 2, d)
                // A bar leaves 2 s clear at either end of a whole window; the last, cut by the
                // call's end, runs to it.
                let x1 = x(min(d, w.start + (CallAnalysis.rateWindowSeconds - 2)), d)
                return RateChart.Window(
                    rate: HTML.n(rate), x: HTML.n(x0), y: HTML.n(y(rate)), width: HTML.n(max(1, x1 - x0)),
                    height: HTML.n(y(0) - y(rate)), fill: rate >= lo && rate <= hi ? "#1b7f3b" : "#2f6db5",
                    start: HTML.clock(w.start), end: HTML.clock(w.end),
                    rounded: String(format: "%.0f", rate))
            },
            // The standard's band on top of the bars, so it shows where every window stands.
            band: Box(x: left, y: y(hi), width: width - left - 10, height: y(lo) - y(hi)),
            bandText: "\(Verdict.trim(lo))–\(Verdict.trim(hi))",
            limits: [lo, hi].map { RateChart.Limit(x1: HTML.n(left), x2: HTML.n(width - 10), y: HTML.n(y($0))) },
            bandLabelX: HTML.n(width - 14), bandLabelY: HTML.n(y(hi) - 4))
    }

    // MARK: Levels

    /// Each party's P.56 active level on a −60…0 dBov scale, with the agent's band
    /// (Templates/levels.mustache).
    struct LevelChart: Encodable {
        struct Label: Encodable { let x, label: String }
        struct Bar: Encodable { let party, dbov, x, y, width, colour, text, labelX, labelY: String }
        struct Party: Encodable {
            let chineseName, party, labelY: String
            let bar: Bar?
        }
        let width: String
        let band: Box
        let bandLow, bandHigh: String
        let scale: [Label]
        let parties: [Party]
    }

    static func levels(_ m: CallMeasures, card: Scorecard) -> LevelChart {
        let lo = -60.0
        let hi = 0.0
        let level = card.standard[AgentLevelRule.self]
        let (bandLo, bandHi) = (level.minimumDbov, level.maximumDbov)
        func x(_ db: Double) -> Double { left + 90 + (width - left - 110) * (max(lo, min(hi, db)) - lo) / (hi - lo) }
        let parties = [m.agent, m.customer].enumerated().compactMap { row, s -> LevelChart.Party? in
            guard let s else { return nil }
            let y = 14.0 + Double(row) * 34
            let party = s.party.rawValue
            return LevelChart.Party(
                chineseName: s.party.chineseName, party: party, labelY: HTML.n(y + 15),
                bar: s.activeLevelDbov.map { level in
                    LevelChart.Bar(
                        party: party, dbov: HTML.n(level), x: HTML.n(x(lo)), y: HTML.n(y),
                        width: HTML.n(x(level) - x(lo)), colour: s.party == .agent ? "#2f6db5" : "#c77c0e",
                        text: String(format: "%.1f", level), labelX: HTML.n(x(level) + 6), labelY: HTML.n(y + 15))
                })
        }
        return LevelChart(
            width: HTML.n(width), band: Box(x: x(bandLo), y: 8, width: x(bandHi) - x(bandLo), height: 70),
            bandLow: Verdict.trim(bandLo), bandHigh: Verdict.trim(bandHi),
            scale: stride(from: lo, through: hi, by: 10).map {
                LevelChart.Label(x: HTML.n(x($0)), label: String(Int($0)))
            },
            parties: parties)
    }

    // MARK: Events

    /// One row of the events table, in time order.
    struct Event: Encodable {
        let kind, at, clock, text: String
    }

    static func events(_ m: CallMeasures, card: Scorecard) -> [Event] {
        var rows: [(Double, String, String)] = []
        for i in m.interruptions ?? [] {
            rows.append(
                (
                    i.atSeconds, "interruption",
                    """
                    \(i.by == .agent ? "坐席打断客户 agent interrupts" : "客户打断坐席 customer interrupts"), overlap \
                    \(String(format: "%.1f", i.overlapSeconds)) s
                    """
                ))
        }
        for b in m.backchannels ?? [] {
            rows.append(
                (
                    b.atSeconds, "backchannel",
                    "\(b.by.rawValue) backchannel (\(String(format: "%.1f", b.durationSeconds)) s)"
                )
            )
        }
        for h in m.holds {
            rows.append(
                (
                    h.startSeconds, "hold",
                    "hold / dead air until \(HTML.clock(h.endSeconds)) (\(String(format: "%.0f", h.durationSeconds)) s)"
                ))
        }
        for k in flagged(card, FallingEndingsRule().id).sorted() {
            let u = m.agent.utterances[k]
            rows.append(
                (
                    (u.endingSpan ?? u.span).startSeconds, "falling",
                    "句尾下沉 sinking ending · \(u.shownEnding?.endLabel ?? "")"
                ))
        }
        for f in m.agent.filledPauses {
            rows.append(
                (
                    f.startSeconds, "filled-pause",
                    "语气词 filled pause (嗯/呃), \(String(format: "%.1f", f.durationSeconds)) s"
                ))
        }
        for k in flagged(card, LongUtterancesRule().id).sorted() {
            let u = m.agent.utterances[k]
            rows.append((u.startSeconds, "long", "单句过长 \(u.syllables) syllables until \(HTML.clock(u.endSeconds))"))
        }
        rows.sort { $0.0 < $1.0 }
        return rows.map {
            let link = TimeLink($0.0)
            return Event(kind: $0.1, at: link.at, clock: link.clock, text: $0.2)
        }
    }
}
