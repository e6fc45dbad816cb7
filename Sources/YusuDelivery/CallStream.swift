// The one analysis of a call, as it comes: `push` blocks of interleaved samples, `finish`
// when the call ends. `yusu score` streams a file through it and finishes; `yusu live`
// streams a call while it is recorded; both batch engines and `bench` use it. There is no
// other path.
//
//   samples -> SignalFrontEnd (checks, P.56 hops, frames)
//           -> per channel: ChannelStream (levels, pitch, voice activity, nuclei, utterances)
//           -> CallTimeline (turns, interruptions, backchannels, holds)
//           -> CallMeasures at the end; events to a listener as they are decided.
//
// Look-ahead, per stage (the bound; see each file):
//   frames 0.02 s; levels 0 (1 s at the start of the call, the warm-up, when the first
//   second is judged together, and the two channels are compared); pitch 0.25 s; voice
//   activity 0.12 s for non-speech, up to 2 s for steady voicing that may be music; nuclei
//   0.5 s; utterance end 0.5 s; talk spans 0.7 s; turns 1.5 s.
// Memory: the rings of `AnalysisSettings.ringFrames` frames per channel and the call's
// results (utterances, events), whatever its length.
import Foundation
import YusuSignal

/// Measure events, as the call goes (the coach turns them into lines).
public protocol CallStreamListener: AnyObject {
    /// An utterance is finished: its syllables and its ending are known.
    func utterance(_ u: Utterance, party: Party, index: Int, at: Double)
    func filledPause(_ span: TimeSpan, party: Party, at: Double)
    /// A party is talking over the other, while it goes on (see `CallTimelineListener`).
    func talkingOver(by: Party, atSeconds: Double, overlapSoFarSeconds: Double, at: Double)
    func interruption(_ i: Interruption, at: Double)
    func backchannel(_ b: Backchannel, at: Double)
    func hold(_ span: TimeSpan, at: Double)
    /// Nobody has spoken since `fromSeconds`, for `seconds` so far.
    func silence(fromSeconds: Double, seconds: Double, at: Double)
    func customerFloor(fromSeconds: Double, seconds: Double, acknowledged: Bool, at: Double)
}

/// A scored call's measures, and what the call page draws.
public struct CallAnalysis: Sendable {
    public var measures: CallMeasures
    public var analysisConfig: AnalysisConfig
    /// The agent's pitch contour, one point per 50 ms of voiced speech (when asked for).
    public var agentContour: [(timeSeconds: Float, f0Hz: Float)]
    /// The agent's nuclei in each rate window (`rateWindowSeconds`, for the call page's rate
    /// chart).
    public var agentNucleiPerRateWindow: [Int]
    /// True when some channel holds speech (scoring needs some).
    public var hasSpeech: Bool
}

extension CallAnalysis {
    /// The length of the agent's rate windows, seconds: the one place it is set (the stream
    /// counts nuclei per window, the call page draws and names them).
    public static let rateWindowSeconds = 30.0

    /// Agent syllables per minute of talk time in consecutive `rateWindowSeconds` windows, the
    /// last cut by the call's end (nil where a window has less than 5 s of talk): the call
    /// page's rate chart.
    public func agentRateWindows() -> [(start: Double, end: Double, rate: Double?)] {
        let m = measures
        var out: [(Double, Double, Double?)] = []
        var start = 0.0
        var k = 0
        while start < m.durationSeconds {
            let window = TimeSpan(
                startSeconds: start, endSeconds: min(m.durationSeconds, start + Self.rateWindowSeconds))
            let talk = m.agent.turns.reduce(0) { $0 + $1.overlapSeconds(with: window) }
            let nuclei = k < agentNucleiPerRateWindow.count ? agentNucleiPerRateWindow[k] : 0
            out.append((start, window.endSeconds, talk >= 5 ? Double(nuclei) / talk * 60 : nil))
            start += Self.rateWindowSeconds
            k += 1
        }
        return out
    }
}

/// Options chosen by the user for one call.
public struct CallOptions: Sendable, Equatable {
    /// Channel carrying the agent in a stereo file (0 or 1).
    public var agentChannel: Int = 0
    /// Keep the agent's pitch contour (the HTML call page draws it).
    public var keepContour = false
    /// Audio gathered before the analysis runs on it, seconds, 0...1 (0: each block as it
    /// comes). Live calls come in 20 ms packets; analysing them a step at a time costs a
    /// server coaching many calls on a core less per call (`AnalysisStep`), and delays each
    /// line by at most the step less a packet. What is decided does not change.
    public var analysisStepSeconds = 0.0
    /// The service's default (`yusu serve`, and `bench --live`, which measures it): two 20 ms
    /// packets a step. One call alone (`yusu live`) gains nothing from steps, and keeps 0:
    /// its final interruption lines are written up to 0.99 s after the overlap on the dev
    /// calls, and would be up to 1.01 s with 40 ms steps.
    public static let serviceAnalysisStepSeconds = 0.04

    public init(agentChannel: Int = 0, keepContour: Bool = false, analysisStepSeconds: Double = 0) {
        self.agentChannel = agentChannel
        self.keepContour = keepContour
        self.analysisStepSeconds = analysisStepSeconds
    }
}

public final class CallStream: ChannelStreamDelegate, CallTimelineListener {
    public let settings: AnalysisSettings
    public let options: CallOptions
    public let sampleRateHz: Int
    public let channelCount: Int
    public weak var listener: CallStreamListener?
    /// Where the time goes (off unless `bench` asks).
    public var clock = StageClock(enabled: false)
    /// Told when the call has finished (before the measures are read).
    public var onFinish: ((CallStream) -> Void)?
    /// Rows of a frame dump (frame time, channel, energy, in an utterance, F0), when wanted;
    /// set before the first `push`.
    public var frameSink: ((Double, Int, Float, Bool, Float) -> Void)?
    /// The learned syllable stage's features of every frame (frame time, channel, features),
    /// when wanted: the training scripts' material. Set before the first `push`.
    public var syllableFeatureSink: ((Double, Int, UnsafeBufferPointer<Float>) -> Void)?

    private let frontEnd: SignalFrontEnd
    /// Live packets gathered into steps before the front end sees them.
    private var step: AnalysisStep
    /// The parties' channel streams (the agent first); one when the call is mono.
    private var streams: [ChannelStream] = []
    private var timeline: CallTimeline!
    private var started = false
    private var framesTaken = 0
    private var processed = 0
    private let warmUpFrames: Int
    /// Stereo whose channels carry one signal: analysed as mono.
    public private(set) var channelsIdentical = false
    private var finished = false
    /// Utterance spans reported to the timeline, per stream: the open one's start.
    private var reportedOpen: [Int?] = []

    /// - Parameter expectedDurationSeconds: the recording's length when known (a file's
    ///   header): one no longer than `AnalysisSettings.wholeWarmUpSeconds` is judged whole,
    ///   as one warm-up; nil for a stream of unknown length.
    public init(
        sampleRateHz: Int, channelCount: Int, options: CallOptions = CallOptions(),
        settings: AnalysisSettings = AnalysisSettings(),
        expectedDurationSeconds: Double? = nil
    ) {
        self.settings = settings
        self.options = options
        self.sampleRateHz = sampleRateHz
        self.channelCount = channelCount
        frontEnd = SignalFrontEnd(
            sampleRateHz: sampleRateHz, channelCount: channelCount, config: settings.analysis,
            ringFrames: settings.ringFrames)
        var warmUp = settings.channelLevels.warmUpSeconds
        if let expected = expectedDurationSeconds, expected <= settings.wholeWarmUpSeconds {
            warmUp = max(warmUp, expected + 1)
        }
        warmUpFrames = Int((warmUp / settings.analysis.hopSeconds).rounded())
        precondition(
            options.analysisStepSeconds >= 0 && options.analysisStepSeconds <= 1,
            "analysis step \(options.analysisStepSeconds) s is outside 0...1 s")
        step = AnalysisStep(
            stepFrames: Int((options.analysisStepSeconds * Double(sampleRateHz)).rounded()), channelCount: channelCount)
    }

    /// Frames whose pitch search ran, all channels (the rest were background): for benchmarks.
    public var pitchSearchCount: Int { frontEnd.pitchSearchCount }

    /// Audio heard so far, seconds (a step still being gathered included).
    public var durationSeconds: Double {
        Double(frontEnd.samplesIn + Int64(step.gatheredFrames)) / Double(sampleRateHz)
    }

    /// Audio analysed so far, seconds: `durationSeconds` less the step being gathered.
    public var analysedSeconds: Double { frontEnd.durationSeconds }

    /// Adds a block of interleaved samples (`frames` × `channelCount`); with an analysis step
    /// (`CallOptions.analysisStepSeconds`), it is analysed once the step is complete. The
    /// block may be changed in place (samples beyond full scale are clipped).
    /// - Throws: `SampleError.nonFinite` at a sample that is not a number.
    public func push(_ interleaved: UnsafeMutableBufferPointer<Float>, frames: Int) throws {
        precondition(!finished, "push after finish")
        if step.passes(frames: frames) { return try analyse(interleaved, frames: frames) }
        try step.check(interleaved, frames: frames, firstFrame: frontEnd.samplesIn + Int64(step.gatheredFrames))
        var taken = 0
        while taken < frames {
            taken += step.gather(interleaved, from: taken, frames: frames)
            // Taken out of the step before the analysis runs: a listener may ask what is heard.
            if step.isComplete, let (samples, count) = step.take() { try analyse(samples, frames: count) }
        }
    }

    private func analyse(_ interleaved: UnsafeMutableBufferPointer<Float>, frames: Int) throws {
        let t = clock.start()
        try frontEnd.push(interleaved, frames: frames)
        clock.stop(.frames, t)
        advance()
    }

    public func push(_ interleaved: inout [Float], frames: Int) throws {
        try interleaved.withUnsafeMutableBufferPointer { try push($0, frames: frames) }
    }

    /// The call has ended: everything still open is decided.
    /// - Returns: the call's measures.
    public func finish(file: String, formatName: String) -> CallAnalysis {
        if !finished {
            // The last step: its samples were checked as they came, so the front end takes them.
            if let (samples, count) = step.take() {
                do { try analyse(samples, frames: count) } catch {
                    preconditionFailure("a gathered step was refused: \(error)")
                }
            }
            let t = clock.start()
            frontEnd.finish()
            clock.stop(.frames, t)
            advance(final: true)
            if !started {
                start()
                advance(final: true)
            }
            for s in streams { s.finishFrames() }
            for s in streams { s.finishUtterances() }
            syncTimeline()
            timeline.finish(durationFrames: Int((frontEnd.durationSeconds / settings.analysis.hopSeconds).rounded()))
            finished = true
            onFinish?(self)
        }
        return analysis(file: file, formatName: formatName)
    }

    // MARK: Frames

    private func advance(final: Bool = false) {
        let available = frontEnd.frameCount
        while framesTaken < available {
            let i = framesTaken
            if started {
                for s in streams { s.observe(frame(s.channel, i), otherEnergyDb: otherEnergy(s.channel, i)) }
            } else {
                pending.append(i)
            }
            framesTaken += 1
            if !started && framesTaken >= warmUpFrames && decideChannels(final: false) { start() }
            if started { processUpTo(framesTaken) }
        }
        if final && !started { _ = decideChannels(final: true) }
    }

    /// Frames heard during the warm-up, before the channels are set up.
    private var pending: [Int] = []

    @inline(__always) private func frame(_ channel: Int, _ i: Int) -> Frame {
        frontEnd.frame(channel: channel, index: i)
    }

    @inline(__always) private func otherEnergy(_ channel: Int, _ i: Int) -> Float? {
        streams.count == 2 ? frame(1 - channel, i).energyDb : nil
    }

    /// Whether a stereo recording is really one signal on two channels, by the correlation
    /// over the warm-up (longer while both channels are digital silence, up to 10 s).
    private func decideChannels(final: Bool) -> Bool {
        guard channelCount == 2 else { return true }
        if let r = frontEnd.channelCorrelation {
            channelsIdentical = r >= settings.identicalChannelCorrelation
            return true
        }
        if final || frontEnd.durationSeconds >= 10 { return true }
        return false
    }

    private func start() {
        started = true
        frontEnd.measuresCorrelation = false
        let agent = options.agentChannel
        let mono = channelCount == 1 || channelsIdentical
        streams = [ChannelStream(channel: agent, party: .agent, settings: settings)]
        if !mono { streams.append(ChannelStream(channel: 1 - agent, party: .customer, settings: settings)) }
        if streams.count == 2 {
            streams[0].other = streams[1]
            streams[1].other = streams[0]
        }
        for s in streams {
            s.delegate = self
            s.clock = clock
            s.keepContour = options.keepContour && s.party == .agent
        }
        if let sink = frameSink {
            let grid = settings.analysis
            for s in streams {
                let c = s.channel
                s.frameSink = { i, e, u, f in sink(grid.frameTimeSeconds(i), c, e, u, f) }
            }
        }
        if let sink = syllableFeatureSink {
            let grid = settings.analysis
            for s in streams {
                let c = s.channel
                s.syllableFeatureSink = { i, x in sink(grid.frameTimeSeconds(i), c, x) }
            }
        }
        timeline = CallTimeline(
            hop: settings.analysis.hopSeconds, config: settings.delivery, parties: streams.map(\.party))
        timeline.listener = self
        reportedOpen = Array(repeating: nil, count: streams.count)
        // The warm-up's frames: heard together, then judged with what they showed.
        for i in pending {
            for s in streams { s.observe(frame(s.channel, i), otherEnergyDb: otherEnergy(s.channel, i)) }
        }
        for s in streams {
            s.refreshLevels()
            s.primeWarmUp(frames: pending.count)
        }
        let warm = streams.map(\.currentLevels)
        for _ in pending {
            for (k, s) in streams.enumerated() { s.process(level: warm[k]) }
            processed += 1
            syncTimeline()
        }
        pending.removeAll()
    }

    private func processUpTo(_ n: Int) {
        while processed < n {
            for s in streams where s.framesIn < s.framesObserved { s.process(level: s.currentLevels) }
            processed += 1
            syncTimeline()
        }
    }

    /// Hands the channels' utterance spans and how far they are known to the timeline, then
    /// lets it decide.
    private func syncTimeline() {
        let t = clock.start()
        defer { clock.stop(.call, t) }
        for (p, s) in streams.enumerated() {
            // Spans closed since the last look, then the open one.
            for span in s.newlyClosed {
                if reportedOpen[p] != span.start { timeline.opened(p, start: span.start) }
                timeline.closed(p, end: span.end)
                reportedOpen[p] = nil
            }
            s.newlyClosed.removeAll(keepingCapacity: true)
            if let open = s.openSpan {
                if reportedOpen[p] != open.start {
                    timeline.opened(p, start: open.start)
                    reportedOpen[p] = open.start
                }
                timeline.grew(p, end: open.end)
            }
            timeline.known(p, through: s.consumed)
            timeline.heard(p, s.heardSpeech)
        }
        timeline.decide(at: processed)
    }

    // MARK: Events

    private func seconds(_ frames: Int) -> Double { Double(frames) * settings.analysis.hopSeconds }
    private var now: Double { seconds(framesTaken) }

    func channel(_ channel: ChannelStream, finished utterance: Utterance, index: Int) {
        listener?.utterance(utterance, party: channel.party, index: index, at: now)
    }

    func channel(_ channel: ChannelStream, filledPause: TimeSpan) {
        listener?.filledPause(filledPause, party: channel.party, at: now)
    }

    func talkingOver(by: Party, atFrame: Int, overlapSoFarFrames: Int, decidedAt: Int) {
        listener?.talkingOver(
            by: by, atSeconds: seconds(atFrame), overlapSoFarSeconds: seconds(overlapSoFarFrames), at: now)
    }

    func interruptionFinal(_ i: Interruption, decidedAt: Int) { listener?.interruption(i, at: now) }
    func backchannel(_ b: Backchannel, decidedAt: Int) { listener?.backchannel(b, at: now) }
    func hold(_ span: TimeSpan, decidedAt: Int) { listener?.hold(span, at: finished ? span.endSeconds : now) }

    func silence(fromFrame: Int, frames: Int, at: Int) {
        listener?.silence(fromSeconds: seconds(fromFrame), seconds: seconds(frames), at: now)
    }

    func customerFloor(fromFrame: Int, frames: Int, acknowledged: Bool, at: Int) {
        listener?.customerFloor(
            fromSeconds: seconds(fromFrame), seconds: seconds(frames), acknowledged: acknowledged, at: now)
    }

    // MARK: The call's measures

    private func analysis(file: String, formatName: String) -> CallAnalysis {
        let duration = frontEnd.durationSeconds
        var speakers: [SpeakerMeasures] = []
        for (k, s) in streams.enumerated() {
            let turns = timeline.turns[k]
            let talk = Spans.totalSeconds(turns)
            let phonation = s.phonationSeconds
            speakers.append(
                SpeakerMeasures(
                    party: s.party, channel: s.channel, syllables: s.syllables, talkTimeSeconds: talk,
                    phonationTimeSeconds: phonation,
                    speechRateCharactersPerMinute: talk > 0 ? Double(s.syllables) / talk * 60 : nil,
                    articulationRateCharactersPerMinute: phonation > 0 ? Double(s.syllables) / phonation * 60 : nil,
                    activeLevelDbov: s.activeLevel?.activeLevelDbov, medianF0Hz: s.medianF0Hz, utterances: s.utterances,
                    turns: turns,
                    filledPauses: s.filledPauses, pitchRangeSemitones: s.pitchRangeSemitones))
        }
        let two = streams.count == 2
        var measures = CallMeasures(
            file: file, durationSeconds: duration, sampleRateHz: sampleRateHz, channels: channelCount,
            formatName: formatName,
            agent: speakers[0], customer: two ? speakers[1] : nil,
            interruptions: two ? timeline.interruptions : nil, backchannels: two ? timeline.backchannels : nil,
            holds: timeline.holds, minimumHoldSeconds: settings.delivery.minimumHoldSeconds,
            customerFloors: two ? timeline.floors : nil)
        if channelsIdentical {
            measures.warnings.append(
                "the two channels carry the same signal (a mono recording saved as stereo): "
                    + "scored as mono; the customer and interruptions are not measurable")
        }
        if frontEnd.clippedSamples > 0 {
            measures.warnings.append(
                "\(frontEnd.clippedSamples) samples beyond full scale were clipped to ±1 before analysis")
        }
        if !two, let voices = TwoVoices.detect(streams[0].stretches, config: settings.twoVoices) {
            measures.warnings.append(TwoVoices.warning(lowHz: voices.lowHz, highHz: voices.highHz))
        }
        return CallAnalysis(
            measures: measures, analysisConfig: settings.analysis, agentContour: streams.first?.contour ?? [],
            agentNucleiPerRateWindow: streams.first?.nucleiPerWindow ?? [], hasSpeech: streams.contains { $0.hasSpeech }
        )
    }
}
