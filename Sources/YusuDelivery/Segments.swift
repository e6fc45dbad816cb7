import YusuSignal

/// A stretch of time in the recording, seconds from its start. `end > start`.
public struct TimeSpan: Sendable, Equatable, Codable {
    public var startSeconds: Double
    public var endSeconds: Double
    public init(startSeconds: Double, endSeconds: Double) {
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
    }
    public var durationSeconds: Double { endSeconds - startSeconds }
    public func contains(_ seconds: Double) -> Bool { seconds >= startSeconds && seconds < endSeconds }
    public func overlapSeconds(with other: TimeSpan) -> Double {
        max(0, min(endSeconds, other.endSeconds) - max(startSeconds, other.startSeconds))
    }
}

/// Turning frame decisions into spans, and spans into coarser spans.
public enum Spans {
    /// Runs of speech frames as time spans (frame `i` covers `[i, i+1) * hop`).
    public static func fromFrames(_ flags: [Bool], hopSeconds: Double) -> [TimeSpan] {
        VoiceActivityDetector.runs(flags).map {
            TimeSpan(startSeconds: Double($0.lowerBound) * hopSeconds, endSeconds: Double($0.upperBound) * hopSeconds)
        }
    }

    /// Joins consecutive spans separated by less than `gapSeconds`.
    public static func bridged(_ spans: [TimeSpan], gapSeconds: Double) -> [TimeSpan] {
        var result: [TimeSpan] = []
        for span in spans {
            if let last = result.last, span.startSeconds - last.endSeconds < gapSeconds {
                result[result.count - 1].endSeconds = max(last.endSeconds, span.endSeconds)
            } else {
                result.append(span)
            }
        }
        return result
    }

    /// Joins spans separated by less than `gapSeconds` unless one of `others` starts inside the gap.
    public static func bridged(_ spans: [TimeSpan], gapSeconds: Double, unlessStartIn others: [TimeSpan]) -> [TimeSpan]
    {
        var result: [TimeSpan] = []
        var o = 0
        for span in spans {
            if let last = result.last, span.startSeconds - last.endSeconds < gapSeconds {
                while o < others.count && others[o].startSeconds < last.endSeconds { o += 1 }
                let otherStartsInGap = o < others.count && others[o].startSeconds < span.startSeconds
                if !otherStartsInGap {
                    result[result.count - 1].endSeconds = max(last.endSeconds, span.endSeconds)
                    continue
                }
            }
            result.append(span)
        }
        return result
    }

    /// Total duration of `spans`, seconds.
    public static func totalSeconds(_ spans: [TimeSpan]) -> Double {
        spans.reduce(0) { $0 + $1.durationSeconds }
    }

    /// Gaps of at least `minimumSeconds` between the union of all spans, within [0, duration].
    public static func silences(between spans: [TimeSpan], durationSeconds: Double, minimumSeconds: Double)
        -> [TimeSpan]
    {
        let sorted = spans.sorted { $0.startSeconds < $1.startSeconds }
        var result: [TimeSpan] = []
        var cursor = 0.0
        for span in sorted {
            if span.startSeconds - cursor >= minimumSeconds {
                result.append(TimeSpan(startSeconds: cursor, endSeconds: span.startSeconds))
            }
            cursor = max(cursor, span.endSeconds)
        }
        if durationSeconds - cursor >= minimumSeconds {
            result.append(TimeSpan(startSeconds: cursor, endSeconds: durationSeconds))
        }
        return result
    }
}
