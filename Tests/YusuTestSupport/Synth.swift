import Foundation
import YusuSignal

/// Synthetic signals whose answers are known: the first thing every stage is tested on.
public enum Synth {
    /// A deterministic pseudo-random generator (xorshift), so tests never flake.
    public struct Random {
        var state: UInt64
        public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
        public mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        /// Uniform in [-1, 1).
        public mutating func uniform() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
        /// Approximately Gaussian, unit variance (sum of 12 uniforms).
        public mutating func gaussian() -> Float {
            var s: Float = 0
            for _ in 0..<12 { s += (uniform() + 1) / 2 }
            return s - 6
        }
    }

    public static func sine(frequencyHz: Double, amplitude: Float, seconds: Double, rateHz: Int) -> [Float] {
        let n = Int(seconds * Double(rateHz))
        return (0..<n).map { amplitude * Float(sin(2 * Double.pi * frequencyHz * Double($0) / Double(rateHz))) }
    }

    /// A harmonic tone whose F0 follows `f0Hz(t)`; harmonics `firstHarmonic...` up to 3.4 kHz
    /// with 1/k amplitudes. `firstHarmonic: 2` leaves the fundamental out, as a phone line does.
    public static func harmonicTone(
        seconds: Double, rateHz: Int, amplitude: Float = 0.3, firstHarmonic: Int = 1,
        f0Hz: (Double) -> Double
    ) -> [Float] {
        let n = Int(seconds * Double(rateHz))
        var out = [Float](repeating: 0, count: n)
        var phase = 0.0
        for i in 0..<n {
            let t = Double(i) / Double(rateHz)
            let f0 = f0Hz(t)
            phase += 2 * Double.pi * f0 / Double(rateHz)
            var v = 0.0
            var k = firstHarmonic
            while Double(k) * f0 < min(3400, Double(rateHz) / 2 - 100) {
                v += sin(Double(k) * phase) / Double(k)
                k += 1
            }
            out[i] = Float(v)
        }
        return normalise(out, peak: amplitude)
    }

    /// A "syllable train": a harmonic tone (F0 wandering around `f0Hz`) switched on and off
    /// `count` times with raised-cosine envelopes of `syllableSeconds`, separated by
    /// `gapSeconds` of near silence: `count` syllables, known exactly.
    public static func syllableTrain(
        count: Int, syllableSeconds: Double = 0.18, gapSeconds: Double = 0.07,
        f0Hz: Double = 160, rateHz: Int = 8000, amplitude: Float = 0.2,
        leadSeconds: Double = 0.3
    ) -> [Float] {
        let period = syllableSeconds + gapSeconds
        let total = leadSeconds * 2 + Double(count) * period
        let tone = harmonicTone(
            seconds: total, rateHz: rateHz, amplitude: 1, f0Hz: { t in f0Hz * (1 + 0.05 * sin(2 * .pi * 0.7 * t)) })
        var out = [Float](repeating: 0, count: tone.count)
        for s in 0..<count {
            let start = leadSeconds + Double(s) * period
            let a = Int(start * Double(rateHz))
            let n = Int(syllableSeconds * Double(rateHz))
            for j in 0..<n where a + j < out.count {
                let env = Float(0.5 - 0.5 * cos(2 * Double.pi * Double(j) / Double(n)))
                out[a + j] = tone[a + j] * env * amplitude
            }
        }
        return out
    }

    /// Start times of the syllables `syllableTrain` lays out, seconds.
    public static func syllableStarts(
        count: Int, syllableSeconds: Double = 0.18, gapSeconds: Double = 0.07, leadSeconds: Double = 0.3
    ) -> [Double] {
        (0..<count).map { leadSeconds + Double($0) * (syllableSeconds + gapSeconds) }
    }

    public static func noise(seconds: Double, rateHz: Int, rmsDbov: Float, seed: UInt64 = 1) -> [Float] {
        var rng = Random(seed: seed)
        let scale = pow(10, rmsDbov / 20)
        return (0..<Int(seconds * Double(rateHz))).map { _ in rng.gaussian() * scale }
    }

    public static func normalise(_ x: [Float], peak: Float) -> [Float] {
        let m = x.map { abs($0) }.max() ?? 0
        return m > 0 ? x.map { $0 * peak / m } : x
    }

    /// `a + b`, the length of the longer.
    public static func mix(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: max(a.count, b.count))
        for i in 0..<a.count { out[i] += a[i] }
        for i in 0..<b.count { out[i] += b[i] }
        return out
    }

    /// `signal` placed at `seconds` in a buffer of `totalSeconds`.
    public static func place(_ signal: [Float], atSeconds seconds: Double, totalSeconds: Double, rateHz: Int) -> [Float]
    {
        var out = [Float](repeating: 0, count: Int(totalSeconds * Double(rateHz)))
        let a = Int(seconds * Double(rateHz))
        for i in 0..<signal.count where a + i < out.count { out[a + i] = signal[i] }
        return out
    }

    /// Mean-square level of `x`, dBov (0 dBov = full-scale square wave).
    public static func levelDbov(_ x: [Float]) -> Double {
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))
        return 10 * log10(max(ms, 1e-20))
    }
}

/// A temporary directory removed when the value is released.
public final class TemporaryDirectory {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "yusu-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
}

/// Writes a recording for a test and returns its path.
@discardableResult
public func writeRecording(_ path: String, channels: [[Float]], rateHz: Int, format: AudioFileFormat = .wavPCM16) throws
    -> String
{
    try AudioFileWriter.write(
        path: path, samples: AudioFileWriter.interleave(channels), channels: channels.count, sampleRateHz: rateHz,
        format: format)
    return path
}

/// The repository's Fixtures/ folder, found from this file's path.
public func fixturesDirectory(filePath: String = #filePath) -> String {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
}

/// A 30 s stereo call with known events: the agent's 12 syllables from 0.5 s; the customer's
/// 14 from 4.0 s; the agent's 10 starting 1.2 s before the customer ends (an interruption);
/// silence to 22 s (a 12 s hold); the agent's 12 again. Line noise on both channels and,
/// with `echoDb`, the agent's echo that far down on the customer's channel.
/// - Returns: the path and when the interruption starts, seconds.
@discardableResult
public func writeInterruptedCall(
    in dir: TemporaryDirectory, echoDb: Float? = nil,
    format: AudioFileFormat = .wavPCM16
) throws -> (path: String, interruptionAt: Double) {
    let rate = 8000
    let total = 30.0
    let a1 = Synth.syllableTrain(count: 12, f0Hz: 190, leadSeconds: 0)  // 3.0 s
    let c1 = Synth.syllableTrain(count: 14, f0Hz: 130, leadSeconds: 0)  // 3.5 s
    let a2 = Synth.syllableTrain(count: 10, f0Hz: 190, leadSeconds: 0)  // 2.5 s
    let customerStart = 4.0
    let interruptionAt = customerStart + 3.5 - 0.07 - 1.2
    var agent = Synth.place(a1, atSeconds: 0.5, totalSeconds: total, rateHz: rate)
    agent = Synth.mix(agent, Synth.place(a2, atSeconds: interruptionAt, totalSeconds: total, rateHz: rate))
    agent = Synth.mix(agent, Synth.place(a1, atSeconds: 22, totalSeconds: total, rateHz: rate))
    var customer = Synth.place(c1, atSeconds: customerStart, totalSeconds: total, rateHz: rate)
    if let echoDb { customer = Synth.mix(customer, agent.map { $0 * pow(10, echoDb / 20) }) }
    agent = Synth.mix(agent, Synth.noise(seconds: total, rateHz: rate, rmsDbov: -62, seed: 5))
    customer = Synth.mix(customer, Synth.noise(seconds: total, rateHz: rate, rmsDbov: -62, seed: 6))
    return (
        try writeRecording(dir.file("call.wav"), channels: [agent, customer], rateHz: rate, format: format),
        interruptionAt
    )
}
