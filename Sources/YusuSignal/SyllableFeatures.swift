// Syllable features: what the learned nucleus stage (`SyllableNet`) reads of each frame.
//
// Fifteen numbers per 10 ms frame, each scaled to about -3...3 and clipped, chosen to say
// where a syllable's vowel is and to say little about whose voice it is:
//   0  energy relative to the channel's speech level, /10 dB    (gain-free)
//   1  energy over the channel's floor, /10 dB                  (how far over the noise)
//   2  syllable-envelope change over 10 ms, /3 dB               (onsets and offsets)
//   3  syllable-envelope change over 30 ms, /6 dB
//   4  spectral change (`Frame.spectralChangeDb`), /6 dB         (Furui 1986 transitions)
//   5  spectral flatness, 300–3400 Hz                           (noise against vowel)
//   6  periodicity, 1 - YIN dip                                  (de Cheveigné & Kawahara 2002)
//   7  tracked pitch: 1 voiced, 0 not
//   8  pitch movement over 20 ms, /2 semitones (0 unless both voiced)
//   9–12 band levels (60–300, 300–1000, 1000–2000, 2000–3800 Hz) relative to the energy, /10 dB
//   13 speech (the voice-activity decision): 1 or 0
//   14 syllable envelope relative to the energy, /10 dB
// Levels enter only as differences (to the speech level, the floor, the frame's own
// energy, the frame before), so a gain, an AGC or a louder voice changes nothing.
// Streaming: each frame's features need the two frames before it; nothing is allocated.
import Foundation

/// Computes `SyllableFeatures.count` features per frame, in order.
public struct SyllableFeatureExtractor: Sendable {
    /// Features per frame.
    public static let count = 15
    /// The last three frames' syllable envelope and pitch, newest last.
    private var envelopeDb: (Float, Float, Float) = (.nan, .nan, .nan)
    private var f0Hz: (Float, Float) = (0, 0)

    public init() {}

    @inline(__always) private static func clip(_ x: Float, _ lo: Float, _ hi: Float) -> Float {
        x.isNaN ? 0 : min(hi, max(lo, x))
    }

    /// Writes frame's features into `out[0..<count]`.
    /// - Parameters:
    ///   - frame: the frame's spectral fields and pitch candidates.
    ///   - f0Hz: the tracked pitch, 0 where unvoiced.
    ///   - speech: the voice-activity decision.
    ///   - levels: the channel's levels the frame is judged against.
    public mutating func features(
        of frame: Frame, f0Hz: Float, speech: Bool, levels: ChannelLevels, into out: UnsafeMutablePointer<Float>
    ) {
        let env = frame.envelopeDb
        let energy = frame.energyDb
        let previous = envelopeDb.2.isNaN ? env : envelopeDb.2
        let threeBack = envelopeDb.0.isNaN ? previous : envelopeDb.0
        out[0] = Self.clip((energy - levels.speechLevelDb) / 10, -6, 1.5)
        out[1] = Self.clip((energy - levels.floorDb) / 10, -1, 8)
        out[2] = Self.clip((env - previous) / 3, -3, 3)
        out[3] = Self.clip((env - threeBack) / 6, -3, 3)
        out[4] = Self.clip(frame.spectralChangeDb / 6, 0, 4)
        out[5] = Self.clip(frame.flatness, 0, 1)
        out[6] = Self.clip(1 - frame.dip(0), 0, 1)
        out[7] = f0Hz > 0 ? 1 : 0
        let before = self.f0Hz.0
        out[8] = f0Hz > 0 && before > 0 ? Self.clip(12 * log2(f0Hz / before) / 2, -3, 3) : 0
        out[9] = Self.clip((frame.band0Db - energy) / 10, -6, 1.5)
        out[10] = Self.clip((frame.band1Db - energy) / 10, -6, 1.5)
        out[11] = Self.clip((frame.band2Db - energy) / 10, -6, 1.5)
        out[12] = Self.clip((frame.band3Db - energy) / 10, -6, 1.5)
        out[13] = speech ? 1 : 0
        out[14] = Self.clip((env - energy) / 10, -4, 4)
        envelopeDb = (envelopeDb.1, envelopeDb.2, env)
        self.f0Hz = (self.f0Hz.1, f0Hz)
    }
}
