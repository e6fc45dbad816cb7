// Real-to-complex FFTs through FFTW 3 (single precision), after the FFTW manual
// ("Real-data DFTs", "Thread safety": only fftwf_execute* may be called from several
// threads; planning must be serialised).
//
// A `RealFFT` owns its FFTW-aligned buffers and two plans (forward r2c, inverse c2r) made
// once; `forward()`/`inverse()` run in place on those buffers and never allocate.
import CFFTW
import Foundation

/// Serialises FFTW planning, which is not thread-safe.
private let fftwPlannerLock = NSLock()

/// A fixed-size real FFT with its own workspace.
///
/// Use from one thread at a time; make one per worker.
public final class RealFFT: @unchecked Sendable {
    /// Transform length in samples (even).
    public let size: Int
    /// Complex bins in the half spectrum: size / 2 + 1.
    public let binCount: Int
    /// Time-domain workspace, `size` samples (input of `forward`, output of `inverse`).
    public let real: UnsafeMutablePointer<Float>
    /// Frequency-domain workspace, interleaved (re, im) × `binCount`.
    public let spectrum: UnsafeMutablePointer<Float>
    private let forwardPlan: fftwf_plan
    private let inversePlan: fftwf_plan

    /// - Parameter size: transform length, even, >= 2.
    public init(size: Int) {
        precondition(size >= 2 && size % 2 == 0, "RealFFT size must be even")
        self.size = size
        self.binCount = size / 2 + 1
        real = fftwf_alloc_real(size)!
        let complexPointer = fftwf_alloc_complex(binCount)!
        spectrum = UnsafeMutableRawPointer(complexPointer).bindMemory(to: Float.self, capacity: 2 * binCount)
        real.initialize(repeating: 0, count: size)
        spectrum.initialize(repeating: 0, count: 2 * binCount)
        fftwPlannerLock.lock()
        // FFTW_ESTIMATE: planning cost stays negligible and plans are reproducible.
        forwardPlan = fftwf_plan_dft_r2c_1d(Int32(size), real, complexPointer, UInt32(FFTW_ESTIMATE))!
        inversePlan = fftwf_plan_dft_c2r_1d(Int32(size), complexPointer, real, UInt32(FFTW_ESTIMATE))!
        fftwPlannerLock.unlock()
    }

    deinit {
        fftwPlannerLock.lock()
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
        fftwPlannerLock.unlock()
        fftwf_free(real)
        fftwf_free(spectrum)
    }

    /// `spectrum` = DFT(`real`), unnormalised.
    @inline(__always) public func forward() { fftwf_execute(forwardPlan) }

    /// `real` = size × IDFT(`spectrum`) (FFTW's unnormalised inverse). Overwrites `spectrum`.
    @inline(__always) public func inverse() { fftwf_execute(inversePlan) }
}
