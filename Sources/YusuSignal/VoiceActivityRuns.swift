// The voice activity's run stages: frame-wise speech flags in, the same flags out with runs
// grown, filled, dropped, each decided as soon as the frames after it allow (look-ahead
// bounded per stage, said on each type). The method they serve is in VoiceActivity.swift.
import Foundation

/// Region growing: a run of continuation frames is speech from its first seed on, and up to
/// `lookBack` frames before it. Look-ahead: `lookBack` frames.
struct SeededRuns: Sendable {
    let lookBack: Int
    /// The open run's first frame, and whether a seed has come in it.
    private var runStart: Int? = nil
    private var seeded = false
    /// Frames of the open run not yet decided: `pendingFrom..<next`.
    private var pendingFrom = 0
    private var next = 0

    init(lookBack: Int) { self.lookBack = lookBack }

    mutating func push(_ i: Int, continues: Bool, seed: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        guard continues else {
            // The run ended without a seed: what it held is not speech.
            for p in pendingFrom..<i { out.append((p, false)) }
            out.append((i, false))
            runStart = nil
            seeded = false
            pendingFrom = i + 1
            return
        }
        if runStart == nil {
            runStart = i
            seeded = false
        }
        if seeded {
            out.append((i, true))
            pendingFrom = i + 1
            return
        }
        if seed {
            for p in pendingFrom..<i { out.append((p, p >= i - lookBack)) }
            out.append((i, true))
            seeded = true
            pendingFrom = i + 1
            return
        }
        // No seed yet: frames too far back for a later seed to reach are not speech.
        while pendingFrom < i - lookBack {
            out.append((pendingFrom, false))
            pendingFrom += 1
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        for p in pendingFrom..<next { out.append((p, false)) }
        pendingFrom = next
    }
}

/// Rewrites the runs of `kind` shorter than `shorterThan` frames that a frame of the other
/// value ends: short gaps between speech are filled (`kind` false), short bursts of speech
/// are dropped (`kind` true). A run reaching `shorterThan` stands. A run still open when the
/// channel ends comes out as non-speech: an unfinished gap is not filled, an unfinished
/// burst not kept. With `leadingStands`, a run before any frame of the other value stands
/// whatever its length (the silence before the first speech is no gap). Look-ahead:
/// `shorterThan` frames.
struct ShortRuns: Sendable {
    let kind: Bool
    let shorterThan: Int
    let leadingStands: Bool
    private var seenOther = false
    private var runFrom: Int? = nil
    /// The open run stands: its frames go out as they come.
    private var runStands = false
    private var next = 0

    /// Gaps of non-speech shorter than `shorterThan` between speech are filled.
    static func gaps(shorterThan: Int) -> ShortRuns { ShortRuns(kind: false, shorterThan, leadingStands: true) }
    /// Bursts of speech shorter than `shorterThan` are dropped.
    static func bursts(shorterThan: Int) -> ShortRuns { ShortRuns(kind: true, shorterThan, leadingStands: false) }

    private init(kind: Bool, _ shorterThan: Int, leadingStands: Bool) {
        (self.kind, self.shorterThan, self.leadingStands) = (kind, shorterThan, leadingStands)
    }

    mutating func push(_ i: Int, _ flag: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        if flag != kind {
            // The run ends short: its frames come out rewritten.
            if let from = runFrom, !runStands { for p in from..<i { out.append((p, !kind)) } }
            runFrom = nil
            runStands = false
            seenOther = true
            out.append((i, flag))
            return
        }
        if runFrom == nil {
            runFrom = i
            runStands = leadingStands && !seenOther
        }
        if runStands {
            out.append((i, kind))
            return
        }
        if i - runFrom! + 1 >= shorterThan {
            for p in runFrom!...i { out.append((p, kind)) }
            runStands = true
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        if let from = runFrom, !runStands { for p in from..<next { out.append((p, false)) } }
        runFrom = nil
    }
}

/// Drops runs of speech with fewer than `minimumVoiced` voiced frames unless a voiced run
/// ends within `attach` frames before them or starts within `attach` frames after them.
/// Look-ahead: until the run has its voicing, or `attach` frames past its end (and, for a
/// run starting there, until its voicing is known); a run still unvoiced after
/// `decideAfter` frames is decided then, by what came before it.
struct UnvoicedRunDropper: Sendable {
    let minimumVoiced: Int
    let attach: Int
    let decideAfter: Int

    enum State: Sendable { case speech, silence, waiting }
    struct Segment: Sendable {
        var from: Int
        var to: Int
        var state: State
    }

    /// Decided and waiting stretches not yet output, in order ([from, to)).
    private var segments: [Segment] = []
    private var head = 0
    /// The open run.
    private var runFrom: Int? = nil
    private var runVoiced = 0
    private var runIsVoiced = false
    /// End (exclusive) of the last voiced run.
    private var lastVoicedEnd: Int? = nil
    private var outNext = 0
    private var next = 0

    init(minimumVoiced: Int, attach: Int, decideAfter: Int) {
        self.minimumVoiced = max(1, minimumVoiced)
        self.attach = attach
        self.decideAfter = decideAfter
        segments.reserveCapacity(64)
    }

    mutating func push(_ i: Int, _ flag: Bool, voiced: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        if flag {
            if runFrom == nil {
                runFrom = i
                runVoiced = 0
                runIsVoiced = false
            }
            if voiced { runVoiced += 1 }
            if !runIsVoiced && runVoiced >= minimumVoiced {
                runIsVoiced = true
                keepWaiting(before: runFrom!)
            }
            if !runIsVoiced && i + 1 - runFrom! >= decideAfter {
                let keep = lastVoicedEnd.map { runFrom! - $0 <= attach } ?? false
                append(Segment(from: runFrom!, to: i + 1, state: keep ? .speech : .silence))
                runFrom = nil
            }
        } else {
            closeRun(at: i)
            append(Segment(from: i, to: i + 1, state: .silence))
        }
        expire(after: i)
        release(into: &out)
    }

    /// Closes the open run at `end` (exclusive).
    private mutating func closeRun(at end: Int) {
        guard let from = runFrom else { return }
        if runIsVoiced {
            append(Segment(from: from, to: end, state: .speech))
            lastVoicedEnd = end
        } else if let e = lastVoicedEnd, from - e <= attach {
            append(Segment(from: from, to: end, state: .speech))
        } else {
            append(Segment(from: from, to: end, state: .waiting))
        }
        runFrom = nil
    }

    private mutating func append(_ s: Segment) {
        if let last = segments.last, segments.count > head, last.to == s.from, last.state == s.state,
            s.state != .waiting
        {
            segments[segments.count - 1].to = s.to
        } else {
            segments.append(s)
        }
    }

    /// A run that has just turned out voiced keeps the waiting runs that end within `attach` before it.
    private mutating func keepWaiting(before start: Int) {
        for k in head..<segments.count where segments[k].state == .waiting && start - segments[k].to <= attach {
            segments[k].state = .speech
        }
    }

    /// Waiting runs that no run can keep any more are dropped.
    private mutating func expire(after i: Int) {
        for k in head..<segments.count where segments[k].state == .waiting {
            let limit = segments[k].to + attach
            guard i + 1 > limit else { continue }  // a run may still start in reach
            if let from = runFrom, from <= limit, !runIsVoiced { continue }  // one in reach may turn voiced
            segments[k].state = .silence
        }
    }

    /// Outputs every frame up to the first one still undecided.
    private mutating func release(into out: inout [(Int, Bool)]) {
        while head < segments.count {
            let s = segments[head]
            if s.state == .waiting { return }
            outNext = max(outNext, s.from)
            while outNext < s.to {
                out.append((outNext, s.state == .speech))
                outNext += 1
            }
            head += 1
        }
        if head > 32 {
            segments.removeFirst(head)
            head = 0
        }
        // The open run, once voiced, goes out as it comes.
        if let from = runFrom, runIsVoiced, outNext >= from {
            while outNext < next {
                out.append((outNext, true))
                outNext += 1
            }
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        closeRun(at: next)
        for k in head..<segments.count where segments[k].state == .waiting { segments[k].state = .silence }
        release(into: &out)
    }
}
