// Natural logarithm of eight Doubles at once, for the frame loop's levels (17 a frame in
// dB) and its spectral flatness (a log per 16 bins): one call per eight values where the C
// library's log10f and log cost a call each, a seventh of the frame loop.
//
// Method: the classic argument reduction and series (Abramowitz & Stegun 1964, "Handbook
// of Mathematical Functions", 4.1.27; as in Cody & Waite 1980, "Software Manual for the
// Elementary Functions", ch. 5): x = 2^e · m with m in [√½, √2), then
//   ln m = 2 atanh(s) = 2 (s + s³/3 + s⁵/5 + ...),  s = (m − 1) / (m + 1), |s| ≤ 0.1716,
// summed to s¹⁵/15: the first term left out is below 4e-14 of the result, so a level
// rounded to Float is the correctly rounded one all but never (the C library's log10f is
// within one unit in the last place of it).
// Domain: positive, normal, finite x (levels are clamped to 1e-12 and a flatness product
// of 16 powers lies within 1e-192 ... 1e80); other inputs give meaningless values.

enum VectorLog {
    /// `ln(x)` lane by lane.
    @inline(__always) static func naturalLog(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt64>.self)
        var exponent = SIMD8<Int64>(truncatingIfNeeded: (bits &>> 52) & 0x7ff) &- 1023
        var m = unsafeBitCast((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000, to: SIMD8<Double>.self)
        let high = m .> 1.414_213_562_373_095_1
        m.replace(with: m * 0.5, where: high)
        exponent.replace(with: exponent &+ 1, where: high)
        let s = (m - 1) / (m + 1)
        let z = s * s
        var series = SIMD8<Double>(repeating: 1.0 / 15)
        series = series * z + 1.0 / 13
        series = series * z + 1.0 / 11
        series = series * z + 1.0 / 9
        series = series * z + 1.0 / 7
        series = series * z + 1.0 / 5
        series = series * z + 1.0 / 3
        series = series * z + 1
        return SIMD8<Double>(exponent) * 0.693_147_180_559_945_3 + 2 * s * series
    }

    /// `10 log10(x)` lane by lane, dB, rounded to Float.
    @inline(__always) static func decibels(_ x: SIMD8<Double>) -> SIMD8<Float> {
        SIMD8<Float>(naturalLog(x) * (10 / 2.302_585_092_994_045_7))
    }
}
