import YusuSignal

/// A stretch of time in the recording, seconds from its start. `end > start`.
public struct TimeSpan: Sendable, Equatable, Codable {
    public var startSeconds: Double
    public var endSeconds: Double
    public var durationSeconds: Double { endSeconds - startSeconds }
    public func contains(_ seconds: Double) -> Bool { seconds >= startSeconds && seconds < endSeconds }
    public func overlapSeconds(with other: TimeSpan) -> Double {
        max(0, min(endSeconds, other.endSeconds) - max(startSeconds, other.startSeconds))
    }
}

/// Turning frame decisions into spans, and spans into coarser spans.
public enum Spans {
    /// Total duration of `spans`, seconds.
    public static func totalSeconds(_ spans: [TimeSpan]) -> Double {
        spans.reduce(0) { $0 + $1.durationSeconds }
    }
}
