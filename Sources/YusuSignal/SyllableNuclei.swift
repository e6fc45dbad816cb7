// Syllable nuclei: counting syllables (Mandarin: characters, 字) from the audio alone.
//
// Method after de Jong & Wempe 2009 ("Praat script to detect syllable nuclei and measure
// speech rate automatically", Behavior Research Methods 41(2)): a syllable nucleus is a
// peak of loudness that stands out from the dips around it and is voiced.
// Stages:
//   1. loudness envelope: energy of the vocalic band (300–2000 Hz, where vowel formants
//      F1/F2 carry most energy and where telephone band-limiting leaves speech intact),
//      smoothed by a short moving average;
//   2. peaks: local maxima of the envelope inside speech, above the channel's noise floor
//      by `minimumSnrDb` and within `maximumBelowPeakDb` of the loudest frame around;
//   3. prominence: a peak counts only when the dip between it and the previous counted
//      peak is at least `minimumDipDb` below the smaller of the two (de Jong & Wempe use
//      2 dB); otherwise the louder of the two is kept;
//   4. voicing: a nucleus must be voiced (a pitch in a frame near the peak).
// Departure from de Jong & Wempe: the envelope is band energy rather than broadband
// intensity (robust to telephone band and line noise) and peaks closer than
// `minimumSpacingSeconds` merge.
import Foundation

/// Tunable thresholds of the nucleus detector.
public struct SyllableNucleiConfig: Sendable, Equatable {
    /// Dip between two nuclei, dB below the smaller peak.
    public var minimumDipDb: Float = 2.0
    /// A nucleus must be this far above the noise floor, dB.
    public var minimumSnrDb: Float = 10
    /// ... and no further than this below the loudest frame within ±1 s, dB.
    public var maximumBelowPeakDb: Float = 25
    /// Nuclei closer than this merge, seconds.
    public var minimumSpacingSeconds: Double = 0.09
    /// Frames searched either side of a peak for voicing.
    public var voicingSearchFrames: Int = 2
    /// Half-width of the envelope's moving average, frames.
    public var smoothingHalfWidthFrames: Int = 2
    public init() {}
}

public struct SyllableNucleusDetector: Sendable {
    public var config: SyllableNucleiConfig
    public init(config: SyllableNucleiConfig = SyllableNucleiConfig()) { self.config = config }

    /// Frame indices of syllable nuclei within speech frames.
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, speech: [Bool]) -> [Int] {
        let n = features.frameCount
        guard n > 2 else { return [] }
        let envelope = Self.vocalicEnvelope(features, halfWidth: config.smoothingHalfWidthFrames)
        let floorDb = NoiseFloor.estimate(envelope)
        let localMax = Self.slidingMaximum(envelope, halfWidth: Int(1.0 / features.config.hopSeconds))
        let minSpacing = Int((config.minimumSpacingSeconds / features.config.hopSeconds).rounded())
        var nuclei: [Int] = []
        var lastPeakValue: Float = 0
        var dipSinceLast: Float = .infinity
        for i in 1..<(n - 1) {
            dipSinceLast = min(dipSinceLast, envelope[i])
            guard speech[i], envelope[i] >= envelope[i - 1], envelope[i] > envelope[i + 1] else { continue }
            let value = envelope[i]
            guard value - floorDb >= config.minimumSnrDb, localMax[i] - value <= config.maximumBelowPeakDb else { continue }
            var voiced = false
            for j in max(0, i - config.voicingSearchFrames)...min(n - 1, i + config.voicingSearchFrames) where pitch.f0Hz[j] > 0 {
                voiced = true
                break
            }
            guard voiced else { continue }
            if let last = nuclei.last {
                let prominent = min(value, lastPeakValue) - dipSinceLast >= config.minimumDipDb
                if !prominent || i - last < minSpacing {
                    if value > lastPeakValue {
                        nuclei[nuclei.count - 1] = i
                        lastPeakValue = value
                        dipSinceLast = value
                    }
                    continue
                }
            }
            nuclei.append(i)
            lastPeakValue = value
            dipSinceLast = value
        }
        return nuclei
    }

    /// Energy of 300–2000 Hz per frame, dB, smoothed by a moving average of ±`halfWidth` frames.
    public static func vocalicEnvelope(_ features: FrameFeatures, halfWidth: Int) -> [Float] {
        let n = features.frameCount
        var raw = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let a = pow(10, features.bandDb[1][i] / 10), b = pow(10, features.bandDb[2][i] / 10)
            raw[i] = 10 * log10(max(a + b, 1e-12))
        }
        guard halfWidth > 0 else { return raw }
        var smoothed = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let lo = max(0, i - halfWidth), hi = min(n - 1, i + halfWidth)
            var sum: Float = 0
            for j in lo...hi { sum += raw[j] }
            smoothed[i] = sum / Float(hi - lo + 1)
        }
        return smoothed
    }

    /// Maximum over ±`halfWidth` frames.
    static func slidingMaximum(_ values: [Float], halfWidth: Int) -> [Float] {
        let n = values.count
        var result = [Float](repeating: -.infinity, count: n)
        var deque: [Int] = []
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
        }
        return result
    }
}
