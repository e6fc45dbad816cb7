import Foundation

/// Where the time of one analysis goes, measured inside the one streaming path (for `yusu
/// bench`): each stage's time is read around the stage's own work, frame by frame, so the
/// stages add up to the whole but for the bookkeeping between them. Off (the default), it
/// reads no clock.
public final class StageClock: @unchecked Sendable {
    public enum Stage: Int, CaseIterable, Sendable {
        case decode, frames, levels, pitch, voiceActivity, nuclei, utterances, call, verdicts

        public var name: String {
            switch self {
            case .decode: return "decode (libsndfile)"
            case .frames: return "frames (resampling, FFT, YIN, P.56 hops)"
            case .levels: return "channel levels"
            case .pitch: return "pitch tracking"
            case .voiceActivity: return "voice activity"
            case .nuclei: return "syllable nuclei"
            case .utterances: return "utterances, fillers, endings"
            case .call: return "turns, overlaps, holds"
            case .verdicts: return "verdicts"
            }
        }
    }

    public let enabled: Bool
    private var nanoseconds = [UInt64](repeating: 0, count: Stage.allCases.count)

    public init(enabled: Bool) { self.enabled = enabled }

    @inline(__always) public func start() -> UInt64 { enabled ? DispatchTime.now().uptimeNanoseconds : 0 }

    @inline(__always) public func stop(_ stage: Stage, _ started: UInt64) {
        guard enabled else { return }
        nanoseconds[stage.rawValue] &+= DispatchTime.now().uptimeNanoseconds &- started
    }

    /// Seconds spent in `stage`.
    public func seconds(_ stage: Stage) -> Double { Double(nanoseconds[stage.rawValue]) / 1e9 }
}
