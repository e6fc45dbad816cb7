// The frame loop's transforms and nothing else: the floor `yusu bench` holds the frame loop
// to ("frame loop / FFTW alone").
//
// Per frame one `spectralWindowSamples`-point r2c; on each frame whose pitch search ran, two
// r2c and one c2r of `FrameAnalyzer.pitchFFTSize` points, the same plans (FFTW_ESTIMATE) the
// frame loop makes. Each transform runs on finite input that stays as it was, as in the
// frame loop, whose every transform reads a fresh window of samples. A c2r overwrites its
// input and returns `size` × its signal: the one workspace the bench used before fed its own
// inverse's output to its next forward transforms, which grew 320 times a round, to infinity
// and NaN within 16 rounds. On this project's machine FFTW took as long on NaN (28.9 against
// 29.1 ms for call_05's 43,136 searches, in C), but a floor measured on NaN is not one
// measured on values like speech's. Here the inverse has its own workspace and transforms zeros, whose
// overwritten input stays zero (7.7 ms for those 43,136 c2r, against 7.8 ms on a spectrum
// copied in afresh each time, less the copies).
//
// The order is the frame loop's: the spectra of a stage block (128 frames) run before its
// pitch searches, and a pitch search's three transforms one after another. Run grouped
// (every r2c, then every c2r) the same transforms take 22 ms instead of 29: the floor is the
// cost of these transforms in this order, the one the analysis needs.
public enum TransformsAlone {
    /// Runs `frames` spectral transforms and `pitchSearches` pitch searches' three transforms.
    /// - Returns: a sum over the last outputs, finite whatever the counts (tests hold it so).
    @discardableResult
    public static func run(frames: Int, pitchSearches: Int, config: AnalysisConfig) -> Float {
        let spectral = RealFFT(size: config.spectralWindowSamples)
        let pitchForward = RealFFT(size: FrameAnalyzer.pitchFFTSize(config))
        let pitchInverse = RealFFT(size: pitchForward.size)
        for i in 0..<spectral.size { spectral.real[i] = Float(i % 7) * 0.01 }
        for i in 0..<pitchForward.size { pitchForward.real[i] = Float(i % 5) * 0.01 }
        for _ in 0..<frames { spectral.forward() }
        for _ in 0..<pitchSearches {
            pitchForward.forward()
            pitchForward.forward()
            pitchInverse.inverse()
        }
        var sum: Float = 0
        for k in 0..<(2 * spectral.binCount) { sum += spectral.spectrum[k] }
        for k in 0..<(2 * pitchForward.binCount) { sum += pitchForward.spectrum[k] }
        for i in 0..<pitchInverse.size { sum += pitchInverse.real[i] }
        return sum
    }
}
