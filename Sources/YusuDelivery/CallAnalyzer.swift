import Foundation
import YusuSignal

/// What the signal stages found on one channel: kept for frame dumps and reports.
public struct ChannelResult: Sendable {
    public var channel: Int
    public var features: FrameFeatures
    public var pitch: PitchTrack
    /// Frame-level speech decisions of the detector.
    public var speechFrames: [Bool]
    /// Frame indices of syllable nuclei.
    public var nuclei: [Int]
    /// Utterance-level activity per frame (pauses shorter than an utterance pause bridged).
    public var utteranceFrames: [Bool]
    /// The same as spans.
    public var utteranceSpans: [TimeSpan]
}

/// A scored call's measures and the per-channel analysis behind them.
public struct CallAnalysis: Sendable {
    public var measures: CallMeasures
    public var channels: [ChannelResult]
    public var analysisConfig: AnalysisConfig

    /// True when some channel holds speech (scoring needs some).
    public var hasSpeech: Bool { channels.contains { $0.speechFrames.contains(true) } }
}

/// Options chosen by the user for one call.
public struct CallOptions: Sendable, Equatable {
    /// Channel carrying the agent in a stereo file (0 or 1).
    public var agentChannel: Int = 0
    public init(agentChannel: Int = 0) { self.agentChannel = agentChannel }
}

/// The pipeline, and the only type that knows its order:
/// decode -> frames -> pitch -> voice activity (with echo rejection from the other
/// channel) -> syllable nuclei -> utterances / turns / endings / level per party ->
/// interruptions, backchannels, holds for the call.
public struct CallAnalyzer: Sendable {
    /// Changes whenever a change to the analysis changes results (a stage, a default
    /// threshold). Stored with every batch result, so a re-run scores such files again.
    public static let analysisRevision = "2026-11-24"

    public var analysis = AnalysisConfig()
    public var channelLevels = ChannelLevelsConfig()
    public var pitch = PitchTrackerConfig()
    public var voiceActivity = VoiceActivityConfig()
    public var nuclei = SyllableNucleiConfig()
    public var delivery = DeliveryConfig()
    public var filledPauses = FilledPauseConfig()
    /// How large and how long a recording may be.
    public var limits = InputLimits()

    /// The pipeline with the default standard's settings.
    public init() { self.init(standard: Standard()) }

    /// The pipeline with the settings a standard carries (what counts as a sinking ending).
    public init(standard: Standard) {
        delivery.fallingMinimumBelowMedianSemitones = standard[FallingEndingsRule.self].belowRegisterSemitones
        #if YUSU_DEV_TUNING
        applyDev()
        #endif
    }

    /// - Parameter requireSpeech: throw `AudioError.noSpeech` when no channel holds speech
    ///   (scoring needs some); `false` returns the analysis anyway (frame dumps).
    /// - Parameter stop: a stop request ends decoding between blocks with `StopRequested`.
    public func analyze(path: String, options: CallOptions = CallOptions(), requireSpeech: Bool = true, stop: StopFlag? = nil) throws -> CallAnalysis {
        var reader = RecordingAnalyzer(config: analysis)
        reader.limits = limits
        let recording = try reader.analyze(path: path, stop: stop)
        let channelCount = recording.info.channelCount
        guard options.agentChannel >= 0 && options.agentChannel < channelCount else {
            throw AudioError.noSuchChannel(path: path, channel: options.agentChannel, channels: channelCount)
        }
        let result = analyze(recording: recording, options: options)
        guard !requireSpeech || result.hasSpeech else {
            throw AudioError.noSpeech(path: path)
        }
        return result
    }

    /// Runs every stage after decoding.
    public func analyze(recording: RecordingAnalyzer.Result, options: CallOptions) -> CallAnalysis {
        // A stereo file whose channels are one signal is a mono recording: analysing it as two
        // parties would invent a customer who says everything the agent says.
        if recording.channelsIdentical && recording.channels.count == 2 {
            var mono = recording
            mono.channels = [recording.channels[options.agentChannel]]
            var result = analyze(recording: mono, options: CallOptions(agentChannel: 0))
            result.channels[0].channel = options.agentChannel
            result.measures.agent.channel = options.agentChannel
            result.measures.channels = 2
            result.measures.warnings.insert("the two channels carry the same signal (a mono recording saved as stereo): "
                + "scored as mono; the customer and interruptions are not measurable", at: 0)
            return result
        }
        return measure(signalStages(recording), recording: recording, options: options)
    }

    /// The signal stages of every channel: levels, pitch, voice activity, syllable nuclei,
    /// utterances.
    public func signalStages(_ recording: RecordingAnalyzer.Result) -> [ChannelResult] {
        let hop = analysis.hopSeconds
        let features = recording.channels
        let levels = features.map { ChannelLevels.measure($0, config: channelLevels) }
        let tracks = features.indices.map { PitchTracker(config: pitch).track(features[$0], levels: levels[$0]) }
        let detector = VoiceActivityDetector(config: voiceActivity)
        var channels: [ChannelResult] = []
        for c in features.indices {
            let other = features.count == 2 ? features[1 - c] : nil
            let speech = detector.detect(features[c], pitch: tracks[c], other: other, levels: levels[c])
            let found = SyllableNucleusDetector(config: nuclei).detect(features[c], pitch: tracks[c], speech: speech, levels: levels[c])
            let spans = Spans.bridged(Spans.fromFrames(speech, hopSeconds: hop), gapSeconds: delivery.utterancePauseSeconds)
            channels.append(ChannelResult(channel: c, features: features[c], pitch: tracks[c], speechFrames: speech, nuclei: found,
                                          utteranceFrames: Self.frames(of: spans, count: features[c].frameCount, hopSeconds: hop),
                                          utteranceSpans: spans))
        }
        return channels
    }

    /// Measures, utterances, interruptions, backchannels and holds from the signal stages.
    public func measure(_ channels: [ChannelResult], recording: RecordingAnalyzer.Result, options: CallOptions) -> CallAnalysis {
        let utteranceSpans = channels.map(\.utteranceSpans)
        let agentIndex = options.agentChannel
        let customerIndex: Int? = channels.count == 2 ? 1 - agentIndex : nil
        let agent = measureSpeaker(.agent, channels[agentIndex], utteranceSpans: utteranceSpans[agentIndex],
                                   otherUtterances: customerIndex.map { utteranceSpans[$0] } ?? [])
        let customer = customerIndex.map {
            measureSpeaker(.customer, channels[$0], utteranceSpans: utteranceSpans[$0], otherUtterances: utteranceSpans[agentIndex])
        }
        var interruptions: [Interruption]? = nil
        var backchannels: [Backchannel]? = nil
        if let customer {
            let classified = OverlapClassifier(config: delivery).classify(agent: agent.utterances, customer: customer.utterances)
            interruptions = classified.interruptions
            backchannels = classified.backchannels
        }
        let everyone = utteranceSpans.flatMap { $0 }
        let holds = Spans.silences(between: everyone, durationSeconds: recording.durationSeconds, minimumSeconds: delivery.minimumHoldSeconds)
        var measures = CallMeasures(
            file: recording.info.path, durationSeconds: recording.durationSeconds,
            sampleRateHz: recording.info.sampleRateHz, channels: recording.info.channelCount,
            formatName: recording.info.formatName,
            agent: agent, customer: customer, interruptions: interruptions, backchannels: backchannels, holds: holds)
        if recording.clippedSamples > 0 {
            measures.warnings.append("\(recording.clippedSamples) samples beyond full scale were clipped to ±1 before analysis")
        }
        if channels.count == 1, let voices = TwoVoices.detect(TwoVoices.stretches(f0Hz: channels[agentIndex].pitch.f0Hz, speech: channels[agentIndex].utteranceFrames,
                                                                                 hopSeconds: analysis.hopSeconds)) {
            measures.warnings.append(TwoVoices.warning(lowHz: voices.lowHz, highHz: voices.highHz))
        }
        return CallAnalysis(measures: measures, channels: channels, analysisConfig: analysis)
    }

    private func measureSpeaker(_ party: Party, _ channel: ChannelResult, utteranceSpans: [TimeSpan], otherUtterances: [TimeSpan]) -> SpeakerMeasures {
        let hop = analysis.hopSeconds
        let speechSpans = Spans.fromFrames(channel.speechFrames, hopSeconds: hop)
        let energy = channel.features.energyDb
        var speechEnergies: [Float] = []
        for i in 0..<energy.count where channel.speechFrames[i] { speechEnergies.append(energy[i]) }
        let loudDb = Double(NoiseFloor.estimate(speechEnergies, percentile: 0.95))
        let phonationFloorDb = Float(loudDb - delivery.phonationBelowPeakDb)
        var phonationFrames = channel.speechFrames
        for i in 0..<energy.count where energy[i] < phonationFloorDb { phonationFrames[i] = false }
        let phonation = Spans.bridged(Spans.fromFrames(phonationFrames, hopSeconds: hop), gapSeconds: delivery.phonationPauseSeconds)
        let turns = Spans.bridged(utteranceSpans, gapSeconds: delivery.turnPauseSeconds, unlessStartIn: otherUtterances)
        let talk = Spans.totalSeconds(turns)
        let phonationSeconds = Spans.totalSeconds(phonation)

        // Speaker's median pitch over voiced speech frames.
        var voiced: [Double] = []
        for i in 0..<channel.features.frameCount where channel.utteranceFrames[i] && channel.pitch.f0Hz[i] > 0 {
            voiced.append(Double(channel.pitch.f0Hz[i]))
        }
        let medianF0 = voiced.isEmpty ? nil : median(voiced)
        // Pitch range: 10th to 90th percentile of voiced F0, with at least a second of it.
        var pitchRange: Double? = nil
        if voiced.count >= Int((1.0 / hop).rounded()) {
            let sorted = voiced.sorted()
            let p10 = sorted[Int(0.1 * Double(sorted.count - 1))], p90 = sorted[Int(0.9 * Double(sorted.count - 1))]
            pitchRange = 12 * log2(p90 / p10)
        }
        let intonation = FinalIntonation(config: delivery)
        // Filled pauses count as one syllable each, whatever nuclei the held sound shows.
        let fillers = FilledPauseDetector(config: filledPauses).detect(
            features: channel.features, pitch: channel.pitch, speech: channel.speechFrames,
            utterances: utteranceSpans, other: otherUtterances)
        var inFiller = [Bool](repeating: false, count: channel.features.frameCount)
        for f in fillers {
            let a = max(0, Int((f.startSeconds / hop).rounded())), b = min(inFiller.count, Int((f.endSeconds / hop).rounded()))
            if a < b { for i in a..<b { inFiller[i] = true } }
        }
        var nucleusIndex = 0
        let nuclei = channel.nuclei
        var utterances: [Utterance] = []
        var syllables = 0
        for span in utteranceSpans {
            let first = Int((span.startSeconds / hop).rounded())
            let last = Int((span.endSeconds / hop).rounded())
            while nucleusIndex < nuclei.count && nuclei[nucleusIndex] < first { nucleusIndex += 1 }
            var count = 0
            while nucleusIndex < nuclei.count && nuclei[nucleusIndex] < last {
                if !inFiller[nuclei[nucleusIndex]] { count += 1 }
                nucleusIndex += 1
            }
            count += fillers.filter { span.contains($0.startSeconds) }.count
            syllables += count
            // A short acknowledgement (嗯, 好的) is not a sentence: its ending is not judged.
            let isSentence = span.durationSeconds >= delivery.backchannelMaximumSeconds
            let ending = isSentence ? medianF0.flatMap {
                intonation.measure(f0Hz: channel.pitch.f0Hz, frames: first..<last, medianF0Hz: $0, hopSeconds: hop)
            } : nil
            utterances.append(Utterance(
                startSeconds: span.startSeconds, endSeconds: span.endSeconds, syllables: count,
                finalDropSemitones: ending?.dropSemitones, endRelativeToMedianSemitones: ending?.endRelativeToMedianSemitones,
                fallingEnding: ending?.falling, endingSpan: ending?.span))
        }
        // P.56 over this party's speech, with a margin for the envelope's hangover.
        let margin = Int((0.2 / hop).rounded())
        var gate = [Bool](repeating: false, count: channel.features.frameCount)
        for run in VoiceActivityDetector.runs(channel.speechFrames) {
            for i in max(0, run.lowerBound - margin)..<min(gate.count, run.upperBound + margin) { gate[i] = true }
        }
        let level = ActiveSpeechLevel.measure(hopMeanSquare: channel.features.hopMeanSquare,
                                              hopEnvelopePeak: channel.features.hopEnvelopePeak, gate: gate)
        return SpeakerMeasures(
            party: party, channel: channel.channel, syllables: syllables,
            talkTimeSeconds: talk, phonationTimeSeconds: phonationSeconds,
            speechRateCharactersPerMinute: talk > 0 ? Double(syllables) / talk * 60 : nil,
            articulationRateCharactersPerMinute: phonationSeconds > 0 ? Double(syllables) / phonationSeconds * 60 : nil,
            activeLevelDbov: speechSpans.isEmpty ? nil : level?.activeLevelDbov,
            medianF0Hz: medianF0, utterances: utterances, turns: turns, phonationSpans: phonation,
            filledPauses: fillers, pitchRangeSemitones: pitchRange)
    }

    static func frames(of spans: [TimeSpan], count: Int, hopSeconds: Double) -> [Bool] {
        var flags = [Bool](repeating: false, count: count)
        for span in spans {
            let a = max(0, Int((span.startSeconds / hopSeconds).rounded()))
            let b = min(count, Int((span.endSeconds / hopSeconds).rounded()))
            if a < b { for i in a..<b { flags[i] = true } }
        }
        return flags
    }
}
