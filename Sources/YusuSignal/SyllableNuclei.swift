// Syllable nuclei: counting syllables (Mandarin: characters, 字) from the audio alone.
//
// Method after de Jong & Wempe 2009 ("Praat script to detect syllable nuclei and measure
// speech rate automatically", Behavior Research Methods 41(2)): a syllable nucleus is a
// peak of loudness that stands out from the dips around it and is voiced.
// Stages:
//   1. envelope: the mean of the log energies of 12 log-spaced bands over 250–3400 Hz
//      (computed per frame by `FrameAnalyzer`), smoothed by a 50 ms moving average. A
//      mean of logs, like the sub-band view of Wang & Narayanan 2007 ("Robust speech rate
//      estimation for spontaneous speech", IEEE TASLP 15(8)), lets a syllable onset in any
//      part of the spectrum show, where broadband intensity is dominated by the loudest
//      vowel formant and misses the shallow dips between Mandarin syllables;
//   2. peaks: local maxima at least `minimumSpacingSeconds` apart (the higher wins);
//   3. prominence: the peak's height above the higher of the lowest points between it and
//      the nearest higher peak on either side (searched within ±1 s), at least
//      `minimumProminenceDb`;
//   4. validation: inside speech, voiced (a tracked pitch, or a periodic frame by its YIN
//      dip) within `voicingSearchSeconds`, at least
//      `minimumSnrDb` above the envelope's floor and within `maximumBelowPeakDb` of the
//      loudest frame within ±1 s.
// Departure from de Jong & Wempe: band-log envelope instead of intensity, prominence
// instead of a fixed dip to the previous peak, and all thresholds relative to the channel.
import Foundation

/// Tunable thresholds of the nucleus detector.
public struct SyllableNucleiConfig: Sendable, Equatable {
    /// A nucleus stands at least this far above its surroundings, dB.
    public var minimumProminenceDb: Float = 0.75
    /// ... at least this far above the envelope's floor (5th percentile), dB.
    public var minimumSnrDb: Float = 5
    /// ... and no further than this below the loudest frame within ±1 s, dB.
    public var maximumBelowPeakDb: Float = 25
    /// Nuclei closer than this: only the higher stays, seconds.
    public var minimumSpacingSeconds: Double = 0.08
    /// A pitch within this distance of the peak makes it voiced, seconds.
    public var voicingSearchSeconds: Double = 0.06
    /// ... as does a frame there whose deepest YIN dip is below this (periodic, even where
    /// the pitch tracker's path chose "unvoiced"): keeps the count independent of the
    /// tracker's voicing costs.
    public var periodicDip: Float = 0.3
    /// Width of the envelope's moving average, frames (5 = 50 ms).
    public var smoothingWindowFrames: Double = 5
    /// Tempo adaptation: syllables per second of speech that the spacing and smoothing above
    /// suit. A channel whose first-pass rate is slower is analysed again with both stretched
    /// by reference / rate (at most `maximumStretch`); nil turns adaptation off.
    public var referenceRatePerSecond: Double? = 4.4
    public var maximumStretch: Double = 2.0
    /// Stretch = (reference / rate) ^ exponent.
    public var stretchExponent: Double = 2
    /// Fewest first-pass nuclei that make a tempo estimate worth trusting.
    public var minimumNucleiForTempo: Int = 50
    public init() {}
}

public struct SyllableNucleusDetector: Sendable {
    public var config: SyllableNucleiConfig
    public init(config: SyllableNucleiConfig = SyllableNucleiConfig()) { self.config = config }

    /// Frame indices of syllable nuclei within speech frames, ascending.
    /// `levels` scale the SNR threshold and correct the floor of a recording without a pause
    /// (`ChannelLevels.measure` when nil).
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, speech: [Bool], levels: ChannelLevels? = nil) -> [Int] {
        let levels = levels ?? ChannelLevels.measure(features)
        let first = detect(features, pitch: pitch, speech: speech, levels: levels, stretch: 1)
        guard let reference = config.referenceRatePerSecond else { return first }
        let speechSeconds = Double(speech.reduce(0) { $0 + ($1 ? 1 : 0) }) * features.config.hopSeconds
        guard speechSeconds > 0, first.count >= config.minimumNucleiForTempo else { return first }
        let rate = Double(first.count) / speechSeconds
        guard rate < reference else { return first }
        return detect(features, pitch: pitch, speech: speech, levels: levels, stretch: min(config.maximumStretch, pow(reference / rate, config.stretchExponent)))
    }

    /// One pass with spacing and smoothing stretched by `stretch` (>= 1 for slow speech).
    func detect(_ features: FrameFeatures, pitch: PitchTrack, speech: [Bool], levels: ChannelLevels, stretch: Double) -> [Int] {
        let n = features.frameCount
        guard n > 2 else { return [] }
        let hop = features.config.hopSeconds
        let window = config.smoothingWindowFrames * stretch
        let envelope = Self.movingAverage(features.syllableEnvelopeDb, widthFrames: window)
        // Without a pause the envelope's low percentile is speech too: lower it as the
        // channel's floor was lowered.
        let floorDb = NoiseFloor.estimate(envelope, percentile: 0.05) - levels.floorCorrectionDb
        let minimumSnrDb = config.minimumSnrDb * levels.snrScale
        let reach = Int((1.0 / hop).rounded())
        let localMax = Self.slidingMaximum(envelope, halfWidth: reach)
        let peaks = Self.spacedPeaks(envelope, minimumDistance: Int((config.minimumSpacingSeconds * stretch / hop).rounded()))
        let voicingReach = Int((config.voicingSearchSeconds / hop).rounded())
        // Voiced frames, as a prefix count for O(1) "any voiced within ±reach".
        var voicedBefore = [Int](repeating: 0, count: n + 1)
        for i in 0..<n {
            let periodic = pitch.f0Hz[i] > 0 || features.candidateDip(i, 0) < config.periodicDip
            voicedBefore[i + 1] = voicedBefore[i] + (periodic ? 1 : 0)
        }
        var nuclei: [Int] = []
        for p in peaks {
            let value = envelope[p]
            guard speech[p], value - floorDb >= minimumSnrDb, localMax[p] - value <= config.maximumBelowPeakDb else { continue }
            let lo = max(0, p - voicingReach), hi = min(n, p + voicingReach + 1)
            guard voicedBefore[hi] - voicedBefore[lo] > 0 else { continue }
            guard Self.prominence(envelope, peak: p, reach: reach) >= config.minimumProminenceDb else { continue }
            nuclei.append(p)
        }
        return nuclei
    }

    /// Local maxima (a plateau counts once, at its middle), thinned so that no two are closer
    /// than `minimumDistance` frames: higher peaks are kept first.
    static func spacedPeaks(_ x: [Float], minimumDistance: Int) -> [Int] {
        var peaks: [Int] = []
        var i = 1
        let n = x.count
        while i < n - 1 {
            if x[i - 1] < x[i] {
                var j = i
                while j + 1 < n && x[j + 1] == x[i] { j += 1 }
                if j + 1 < n && x[j + 1] < x[i] { peaks.append((i + j) / 2) }
                i = j + 1
            } else {
                i += 1
            }
        }
        guard minimumDistance > 1, peaks.count > 1 else { return peaks }
        var keep = [Bool](repeating: true, count: peaks.count)
        let byHeight = peaks.indices.sorted { x[peaks[$0]] > x[peaks[$1]] }
        for k in byHeight where keep[k] {
            var j = k - 1
            while j >= 0 && peaks[k] - peaks[j] < minimumDistance { keep[j] = false; j -= 1 }
            j = k + 1
            while j < peaks.count && peaks[j] - peaks[k] < minimumDistance { keep[j] = false; j += 1 }
        }
        return peaks.indices.filter { keep[$0] }.map { peaks[$0] }
    }

    /// Topographic prominence of the peak at `peak`, searching at most `reach` frames each way.
    static func prominence(_ x: [Float], peak: Int, reach: Int) -> Float {
        let value = x[peak]
        var leftMin = value
        var i = peak - 1
        while i >= max(0, peak - reach) && x[i] <= value {
            leftMin = min(leftMin, x[i])
            i -= 1
        }
        var rightMin = value
        i = peak + 1
        while i <= min(x.count - 1, peak + reach) && x[i] <= value {
            rightMin = min(rightMin, x[i])
            i += 1
        }
        return value - max(leftMin, rightMin)
    }

    /// Moving average over a centred window of `widthFrames` (fractional: the two outermost
    /// frames weigh what is left over), edges repeating the end values.
    static func movingAverage(_ x: [Float], widthFrames: Double) -> [Float] {
        let n = x.count
        guard widthFrames > 1, n > 0 else { return x }
        let full = Int(((widthFrames - 1) / 2).rounded(.down))
        let edgeWeight = Float((widthFrames - Double(2 * full + 1)) / 2)
        let outer = edgeWeight > 0 ? full + 1 : full
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for j in (i - full)...(i + full) { sum += x[min(n - 1, max(0, j))] }
            if outer > full {
                sum += edgeWeight * (x[min(n - 1, max(0, i - outer))] + x[min(n - 1, max(0, i + outer))])
            }
            out[i] = sum / Float(widthFrames)
        }
        return out
    }

    /// Maximum over ±`halfWidth` frames.
    static func slidingMaximum(_ values: [Float], halfWidth: Int) -> [Float] {
        let n = values.count
        var result = [Float](repeating: -.infinity, count: n)
        var deque: [Int] = []
        deque.reserveCapacity(2 * halfWidth + 2)
        var head = 0
        var next = 0
        for i in 0..<n {
            while next < n && next <= i + halfWidth {
                while deque.count > head && values[deque[deque.count - 1]] <= values[next] { deque.removeLast() }
                deque.append(next)
                next += 1
            }
            while deque[head] < i - halfWidth { head += 1 }
            result[i] = values[deque[head]]
            if head > 1024 { deque.removeFirst(head); head = 0 }
        }
        return result
    }
}
