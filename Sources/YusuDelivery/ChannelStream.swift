// One party's channel, as the call comes: frames in, utterances and the party's measures out.
//
// Stages, each fed the frames the one before it has decided, in order:
//   levels (`ChannelLevelsTracker`, causal) -> pitch (`PitchTracker`, fixed lag) -> voice
//   activity (`VoiceActivityTracker`) -> syllable nuclei (`LearnedNucleusTracker`, or the
//   older peak picker `SyllableNucleusTracker` when the settings ask for it) and the
//   party's own layer below: utterances (speech bridged over pauses under
//   `utterancePauseSeconds`), filled pauses, endings, two-voice stretches, and the running
//   voice measures of `PartyVoice.swift` (phonation, the register endings are measured
//   against, the P.56 level over the speech and its gate).
// An utterance is final once the pause after it is long enough, its nuclei and filled
// pauses are decided, and (for filled pauses) the other party's speech around them is
// known. Memory: rings of `AnalysisSettings.ringFrames` frames and the open utterance.
import Foundation
import YusuSignal

/// What one channel hands the call, as it happens.
protocol ChannelStreamDelegate: AnyObject {
    func channel(_ channel: ChannelStream, finished utterance: Utterance, index: Int)
    func channel(_ channel: ChannelStream, filledPause: TimeSpan)
}

final class ChannelStream {
    let channel: Int
    let party: Party
    let settings: AnalysisSettings
    let hop: Double
    // Both are owned by the CallStream that owns this stream, and outlive it. Not `weak`: a
    // weakly referenced object keeps its counts in a side table, and every retain of it,
    // several a frame, takes the slow path (a tenth of a whole `score`, measured by perf).
    unowned(unsafe) var other: ChannelStream?
    unowned(unsafe) var delegate: ChannelStreamDelegate?
    var clock = StageClock(enabled: false)

    // MARK: Stages
    private var levels: ChannelLevelsTracker
    private(set) var pitch: PitchTracker
    private var vad: VoiceActivityTracker
    /// One of the two counters runs (`SyllableNucleiConfig.method`): the learned one, or
    /// the hand-set peak picker.
    private var learned: LearnedNucleusTracker?
    private var peaks: SyllableNucleusTracker?
    private var fillers: FilledPauseTracker

    // MARK: Per-frame rings
    private(set) var frames: FrameRing<Frame>
    private var levelsAt: FrameRing<ChannelLevels>
    private var otherEnergy: FrameRing<Float>
    /// Frames the pitch stage has taken (everything after the warm-up).
    private(set) var framesIn = 0
    private var vadIn = 0
    private var nucleiIn = 0
    /// Frames the party's own layer has taken (speech final before this).
    private(set) var consumed = 0
    /// The voice activity's early hint of the latest talk (`VoiceActivityTracker.heardSpeech`).
    var heardSpeech: Range<Int>? { vad.heardSpeech }

    // MARK: Utterances
    /// The open utterance's first frame and its last speech frame's end (exclusive).
    private var openStart: Int? = nil
    private var openEnd = 0
    /// Utterances closed by their pause, waiting for their nuclei and filled pauses: [start, end).
    private var closing: [(start: Int, end: Int)] = []
    /// Decided nuclei not yet counted.
    private var nucleusQueue: [Int] = []
    /// Filled-pause candidates waiting for the other party's speech around them to be known.
    private var fillerCandidates: [(candidate: FilledPauseTracker.Candidate, utteranceStart: Int)] = []
    /// Decided filled pauses not yet counted in an utterance: [start, end) frames.
    private var fillerQueue: [(Int, Int)] = []
    /// Voiced pitch of a pause not yet known to be inside an utterance.
    private var pauseVoiced: [Float] = []
    private var finished = false

    // MARK: The party's measures so far
    private(set) var utterances: [Utterance] = []
    private(set) var filledPauses: [TimeSpan] = []
    private(set) var syllables = 0
    private var speechFrames = 0
    private var phonation: PhonationTimer
    private var level = SpeechGatedLevel()
    private(set) var register = PitchRegister()
    /// Two voices on one channel: stretches of voicing.
    private var voiceStretches: VoiceStretches
    var stretches: [TwoVoices.Sample] { voiceStretches.samples }
    /// Speech-rate windows for the call page: nuclei per 30 s window.
    private(set) var nucleiPerWindow: [Int] = []
    /// The pitch contour for the call page (when asked): one point per 50 ms of voicing.
    var keepContour = false
    private var contourSampler: ContourSampler
    var contour: [(timeSeconds: Float, f0Hz: Float)] { contourSampler.points }
    /// Frame rows for a frame dump (when asked): (frame, energy, in an utterance, F0).
    var frameSink: ((Int, Float, Bool, Float) -> Void)? = nil
    /// The learned stage's features of every frame (training material), when wanted.
    var syllableFeatureSink: ((Int, UnsafeBufferPointer<Float>) -> Void)? {
        get { learned?.featureSink }
        set { learned?.featureSink = newValue }
    }
    private var dumped = 0

    init(channel: Int, party: Party, settings: AnalysisSettings) {
        self.channel = channel
        self.party = party
        self.settings = settings
        hop = settings.analysis.hopSeconds
        let ring = settings.ringFrames
        levels = ChannelLevelsTracker(config: settings.channelLevels, hopSeconds: hop)
        pitch = PitchTracker(config: settings.pitch, analysis: settings.analysis, ringFrames: ring)
        vad = VoiceActivityTracker(
            config: settings.voiceActivity, hopSeconds: hop, ringFrames: ring,
            heardJoinFrames: Int((settings.delivery.interruptionHostPauseSeconds / hop).rounded()))
        switch settings.nuclei.method {
        case .learned:
            let bridge = Int((settings.delivery.utterancePauseSeconds / hop).rounded())
            learned = LearnedNucleusTracker(net: settings.nuclei.net, bridgeFrames: bridge)
        case .peaks: peaks = SyllableNucleusTracker(config: settings.nuclei, hopSeconds: hop)
        }
        fillers = FilledPauseTracker(config: settings.filledPauses, hopSeconds: hop)
        frames = FrameRing(capacity: ring, filler: Frame())
        levelsAt = FrameRing(capacity: ring, filler: ChannelLevels.clean(floorDb: -120))
        otherEnergy = FrameRing(capacity: ring, filler: .nan)
        nucleusQueue.reserveCapacity(256)
        closing.reserveCapacity(8)
        pauseVoiced.reserveCapacity(64)
        phonation = PhonationTimer(config: settings.delivery, hopSeconds: hop)
        voiceStretches = VoiceStretches(joinGapSeconds: settings.twoVoices.joinGapSeconds, hopSeconds: hop)
        contourSampler = ContourSampler(hopSeconds: hop)
    }

    // MARK: Frames in

    /// A frame heard (the levels take every frame as it comes, during the warm-up too).
    func observe(_ frame: Frame, otherEnergyDb: Float?) {
        let t = clock.start()
        levels.observe(frame, otherEnergyDb: otherEnergyDb)
        clock.stop(.levels, t)
        frames.append(frame)
        otherEnergy.append(otherEnergyDb ?? .nan)
    }

    /// The warm-up's frames, judged together: the nucleus floor starts from them.
    func primeWarmUp(frames count: Int) {
        guard peaks != nil else { return }
        peaks!.prime(envelopeDb: (0..<count).map { frames[$0].envelopeDb })
    }

    /// The levels as they stand (the warm-up hands these to its frames).
    var currentLevels: ChannelLevels { levels.levels }
    func refreshLevels() { levels.refresh() }
    var framesObserved: Int { frames.count }

    /// Runs frame `framesIn` through the stages, judged against `level`.
    func process(level: ChannelLevels) {
        let i = framesIn
        levelsAt.append(level)
        let t = clock.start()
        pitch.push(frames[i], levels: level)
        clock.stop(.pitch, t)
        framesIn += 1
        advance()
    }

    /// The channel has ended: every frame is decided (first step of the end; the other
    /// channel's frames must be decided too before `finishUtterances`).
    func finishFrames() {
        pitch.finish()
        feedVoiceActivity()
        vad.finish()
        feedNuclei()
        learned?.finish()
        learned?.take(into: &nucleusQueue)
        peaks?.finish()
        peaks?.take(into: &nucleusQueue)
        consumeFrames()
        if let c = fillers.finish(), let start = openStart ?? closing.last?.start {
            fillerCandidates.append((c, start))
        }
        framesDone = true
    }

    /// The last utterances, filled pauses and measures (second step of the end).
    func finishUtterances() {
        resolveFillers(force: true)
        finished = true
        // The open utterance ends with the channel.
        if let start = openStart { closeOpen(start: start) }
        closeUtterances()
        level.finish(through: consumed, frames: frames, speechRing: vad.speech)
        voiceStretches.flush()
        contourSampler.flush()
        flushFrameRows()
    }

    /// Every frame is decided (the channel has ended).
    private var framesDone = false

    #if YUSU_DEV_TUNING
        static let debugLag = ProcessInfo.processInfo.environment["YUSU_DEBUG_LAG"].flatMap(Double.init)
    #endif

    private func advance() {
        #if YUSU_DEV_TUNING
            if let every = Self.debugLag, framesIn % Int(every) == 0 {
                FileHandle.standardError.write(
                    Data(
                        """
                        lag ch\(channel) t=\(Double(framesIn) * hop) pitch=\(framesIn - pitch.framesOut) \
                        vad=\(framesIn - vad.framesOut) nuclei=\(framesIn - nucleiIn) \
                        consumed=\(framesIn - consumed) open=\(openStart.map { Double($0) * hop } ?? -1)\n
                        """
                        .utf8))
            }
        #endif
        var t = clock.start()
        feedVoiceActivity()
        clock.stop(.voiceActivity, t)
        t = clock.start()
        feedNuclei()
        clock.stop(.nuclei, t)
        t = clock.start()
        consumeFrames()
        resolveFillers(force: false)
        closeUtterances()
        clock.stop(.utterances, t)
    }

    private func feedVoiceActivity() {
        // Energies go to the voice activity as the frames come, ahead of their pitch.
        let hearTo = min(framesIn, vad.framesIn + VoiceActivityTracker.maximumHeardAhead)
        while vad.framesHeard < hearTo { vad.hear(energyDb: frames[vad.framesHeard].energyDb) }
        while vadIn < pitch.framesOut {
            let j = vadIn
            let other = otherEnergy[j]
            vad.push(
                energyDb: frames[j].energyDb, f0Hz: pitch.f0Hz[j], spectralChangeDb: frames[j].spectralChangeDb,
                otherEnergyDb: other.isNaN ? nil : other, levels: levelsAt[j])
            vadIn += 1
        }
    }

    private func feedNuclei() {
        while nucleiIn < vad.framesOut {
            let k = nucleiIn
            if learned != nil {
                learned!.push(frame: frames[k], f0Hz: pitch.f0Hz[k], speech: vad.speech[k], levels: levelsAt[k])
            } else {
                let periodic = pitch.f0Hz[k] > 0 || frames[k].dip(0) < settings.nuclei.periodicDip
                peaks!.push(
                    envelopeDb: frames[k].envelopeDb, periodic: periodic, speech: vad.speech[k], levels: levelsAt[k])
            }
            nucleiIn += 1
        }
        learned?.take(into: &nucleusQueue)
        peaks?.take(into: &nucleusQueue)
    }

    // MARK: The party's own layer

    private var bridgeFrames: Int { Int((settings.delivery.utterancePauseSeconds / hop).rounded()) }

    /// Takes every frame whose speech decision is final.
    private func consumeFrames() {
        while consumed < vad.framesOut {
            let j = consumed
            let speech = vad.speech[j]
            let f0 = pitch.f0Hz[j]
            let frame = frames[j]
            // Utterances: speech bridged over pauses shorter than the utterance pause.
            if speech {
                speechFrames += 1
                if let start = openStart, j - openEnd >= bridgeFrames {
                    closeOpen(start: start)
                }
                if openStart == nil {
                    openStart = j
                    pauseVoiced.removeAll(keepingCapacity: true)
                } else {
                    // The pause before this frame is inside the utterance: its voicing counts.
                    for v in pauseVoiced { register.add(f0Hz: v) }
                    pauseVoiced.removeAll(keepingCapacity: true)
                }
                openEnd = j + 1
                if f0 > 0 { register.add(f0Hz: f0) }
                phonation.addSpeech(j, energyDb: frame.energyDb)
            } else if let start = openStart {
                if j - openEnd + 1 >= bridgeFrames {
                    closeOpen(start: start)
                } else if f0 > 0 {
                    pauseVoiced.append(f0)
                }
            }
            if let c = fillers.push(frame, f0Hz: f0, speech: speech), let start = openStart ?? closing.last?.start {
                fillerCandidates.append((c, start))
            }
            voiceStretches.push(j, f0Hz: speech ? f0 : 0)
            if keepContour { contourSampler.push(j, f0Hz: f0, inUtterance: openStart != nil && speech) }
            consumed += 1
            level.decided(j, speech: speech, frames: frames, speechRing: vad.speech)
            dumpFrames(upTo: j)
        }
    }

    private func closeOpen(start: Int) {
        closing.append((start, openEnd))
        newlyClosed.append((start, openEnd))
        openStart = nil
        pauseVoiced.removeAll(keepingCapacity: true)
    }

    /// Utterance spans closed since the call last took them, [start, end) frames.
    var newlyClosed: [(start: Int, end: Int)] = []
    /// The open utterance: its start and its last speech frame's end so far.
    var openSpan: (start: Int, end: Int)? { openStart.map { ($0, openEnd) } }

    /// Filled-pause candidates are decided once the other party's speech around them is known.
    private func resolveFillers(force: Bool) {
        var k = 0
        while k < fillerCandidates.count {
            let (c, start) = fillerCandidates[k]
            guard fillers.standsApart(c, utteranceStartFrame: start) else {
                fillerCandidates.remove(at: k)
                continue
            }
            let mid = (c.startFrame + c.endFrame) / 2
            let inOther: Bool?
            if let other {
                inOther = force ? (other.utteranceContains(frame: mid) ?? false) : other.utteranceContains(frame: mid)
            } else {
                inOther = false
            }
            guard let inside = inOther else {
                k += 1
                continue
            }
            fillerCandidates.remove(at: k)
            guard !inside else { continue }
            fillerQueue.append((c.startFrame, c.endFrame))
            let span = TimeSpan(startSeconds: Double(c.startFrame) * hop, endSeconds: Double(c.endFrame) * hop)
            filledPauses.append(span)
            delegate?.channel(self, filledPause: span)
        }
    }

    /// Whether frame `m` lies inside one of this party's utterances: nil until that is known.
    func utteranceContains(frame m: Int) -> Bool? {
        if m >= consumed && !framesDone { return nil }
        if let start = openStart {
            if m >= start && m < openEnd { return true }
            // In the open utterance's pause: inside if speech comes back in time.
            if m >= openEnd { return framesDone ? false : nil }
        }
        for u in closing.reversed() {
            if m >= u.start && m < u.end { return true }
            if u.end <= m { return false }
        }
        for u in utterances.reversed() {
            let a = Int((u.startSeconds / hop).rounded())
            let b = Int((u.endSeconds / hop).rounded())
            if m >= a && m < b { return true }
            if b <= m { return false }
        }
        return false
    }

    /// Utterances whose nuclei and filled pauses are all decided are finished, in order.
    private func closeUtterances() {
        while let first = closing.first {
            guard
                finished
                    || ((learned?.decided(before: first.end) ?? peaks!.decided(before: first.end))
                        && !fillerCandidates.contains(where: { $0.candidate.startFrame < first.end })
                        && consumed > first.end)
            else { return }
            closing.removeFirst()
            finishUtterance(start: first.start, end: first.end)
        }
    }

    private func finishUtterance(start: Int, end: Int) {
        // Nuclei inside, but not inside a filled pause; each filled pause counts as one.
        var count = 0
        while let n = nucleusQueue.first, n < end {
            nucleusQueue.removeFirst()
            guard n >= start else { continue }
            #if YUSU_DEV_TUNING
                if ProcessInfo.processInfo.environment["YUSU_DEBUG_NUCLEI"] != nil {
                    FileHandle.standardError.write(Data("nucleus \(channel) \(n)\n".utf8))
                }
            #endif
            if !fillerQueue.contains(where: { n >= $0.0 && n < $0.1 }) { count += 1 }
            let window = Int(Double(n) * hop / CallAnalysis.rateWindowSeconds)
            while nucleiPerWindow.count <= window { nucleiPerWindow.append(0) }
            nucleiPerWindow[window] += 1
        }
        count += fillerQueue.filter { $0.0 >= start && $0.0 < end }.count
        fillerQueue.removeAll { $0.1 <= end }
        syllables += count
        let startSeconds = Double(start) * hop
        let endSeconds = Double(end) * hop
        var u = Utterance(startSeconds: startSeconds, endSeconds: endSeconds, syllables: count)
        // A short acknowledgement (嗯, 好的) is not a sentence: its ending is not measured.
        if endSeconds - startSeconds >= settings.delivery.backchannelMaximumSeconds, let registerHz = register.medianHz
        {
            let f0 = pitch.f0Hz
            if let ending = FinalIntonation(config: settings.delivery).measure(
                f0Hz: { f0.holds($0) ? f0[$0] : 0 }, frames: start..<end,
                medianF0Hz: registerHz, hopSeconds: hop)
            {
                u.finalDropSemitones = ending.dropSemitones
                u.endRelativeToMedianSemitones = ending.endRelativeToMedianSemitones
                u.endingSpan = ending.span
            }
        }
        #if YUSU_DEV_TUNING
            if ProcessInfo.processInfo.environment["YUSU_DEBUG_ENDINGS"] != nil {
                debugEnding(u, start: start, end: end)
            }
        #endif
        utterances.append(u)
        delegate?.channel(self, finished: u, index: utterances.count - 1)
    }

    // MARK: Frame rows

    /// Frame rows go out once it is known whether each frame lies in an utterance.
    private func dumpFrames(upTo j: Int) {
        guard let sink = frameSink else { return }
        while dumped <= j {
            let inUtterance: Bool
            if vad.speech[dumped] {
                inUtterance = true
            } else if let known = utteranceContains(frame: dumped) {
                inUtterance = known
            } else {
                return
            }
            sink(dumped, frames[dumped].energyDb, inUtterance, pitch.f0Hz[dumped])
            dumped += 1
        }
    }

    private func flushFrameRows() {
        guard frameSink != nil else { return }
        dumpFrames(upTo: consumed - 1)
    }

    // MARK: Measures at the end

    var speechSeconds: Double { Double(speechFrames) * hop }
    var phonationSeconds: Double { Double(phonation.frames) * hop }
    var hasSpeech: Bool { speechFrames > 0 }
    var activeLevel: ActiveSpeechLevel.Measurement? { speechFrames > 0 ? level.measurement() : nil }

    /// The median F0 of the party's voiced speech, Hz.
    var medianF0Hz: Double? { register.medianHz }

    /// Semitones between the 10th and 90th percentile of voiced F0; nil with under a second.
    var pitchRangeSemitones: Double? { register.rangeSemitones(hopSeconds: hop) }
}
