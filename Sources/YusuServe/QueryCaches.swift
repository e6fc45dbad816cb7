import Foundation
import YusuBatch

/// Each call's first moment of evidence per failed rule, remembered by call id and the time
/// it was scored (a call scored again gets a new time, so nothing stale is served).
final class FirstEvidence: @unchecked Sendable {
    static let shared = FirstEvidence()
    private let lock = NSLock()
    private var known: [Int64: (scoredAt: String, first: [String: Double])] = [:]

    /// These calls' first evidence: remembered, or read from their stored verdicts in one
    /// query for those not remembered (or scored again since).
    func of(_ store: any ResultsStore, calls: [ServeQueries.CallSummary]) throws -> [Int64: [String: Double]] {
        var out: [Int64: [String: Double]] = [:]
        var missing: [Int64] = []
        lock.withLock {
            for c in calls {
                if let hit = known[c.id], hit.scoredAt == c.scoredAt {
                    out[c.id] = hit.first
                } else {
                    missing.append(c.id)
                }
            }
        }
        guard !missing.isEmpty else { return out }
        struct Stored: Decodable {
            let id: Int64
            let scored_at: String
            let verdicts_json: String?
        }
        let ids = missing.map(String.init).joined(separator: ",")
        for r in try store.fetch(Stored.self, "SELECT id, scored_at, verdicts_json FROM calls WHERE id IN (\(ids))", [])
        {
            out[r.id] = of(r.id, scoredAt: r.scored_at, r.verdicts_json)
        }
        return out
    }

    func of(_ id: Int64, scoredAt: String, _ verdictsJSON: String?) -> [String: Double] {
        if let hit = lock.withLock({ known[id] }), hit.scoredAt == scoredAt { return hit.first }
        var first: [String: Double] = [:]
        for v in StoredVerdict.list(verdictsJSON) where v.passed == false {
            if let start = v.evidence.map(\.start_s).min() { first[v.rule] = start }
        }
        lock.withLock {
            // Bounded: pages show 50 calls at a time, a night is some thousands; past 20,000
            // calls (a few MB) start afresh.
            if known.count >= 20_000 { known.removeAll() }
            known[id] = (scoredAt, first)
        }
        return first
    }
}

/// Aggregates over a night (counts, pass rates, trends) remembered for `seconds`: a night
/// changes when a batch writes it, and a dashboard read many times a minute must not add
/// the night up each time. Numbers are at most this old; lists of calls are always fresh.
final class AggregateCache: @unchecked Sendable {
    static let shared = AggregateCache(seconds: 10)
    let seconds: Double
    private let lock = NSCondition()
    private var entries: [String: (Date, Any)] = [:]

    init(seconds: Double) { self.seconds = seconds }

    private var computing: Set<String> = []

    /// The remembered value while it is fresh. When it has aged, one caller brings it up to
    /// date while the others keep getting the old one (no stampede of recomputations); with
    /// a store every thread may share (SQLite), that happens in the background and no
    /// request waits for it.
    func value<T>(_ key: String, store: (any ResultsStore)? = nil, _ compute: @escaping () throws -> T) rethrows -> T {
        let now = Date()
        var stale: T? = nil
        var remembered: T? = nil
        lock.lock()
        // Nothing remembered yet and another caller computing it: wait for theirs.
        while entries[key] == nil && computing.contains(key) { lock.wait() }
        if let (at, value) = entries[key], let v = value as? T {
            if now.timeIntervalSince(at) < seconds || computing.contains(key) { remembered = v } else { stale = v }
        }
        if remembered == nil { computing.insert(key) }
        lock.unlock()
        if let remembered { return remembered }
        if let stale, store?.sharedAcrossThreads == true {
            let job = UncheckedSendable(compute)
            DispatchQueue.global(qos: .utility).async { [self] in
                let v = try? job.value()
                lock.withLock {
                    if let v { entries[key] = (Date(), v) }
                    _ = computing.remove(key)
                }
            }
            return stale
        }
        defer {
            lock.withLock { _ = computing.remove(key) }
            lock.broadcast()
        }
        let v = try compute()
        lock.withLock {
            if entries.count > 2000 { entries.removeAll() }
            entries[key] = (Date(), v)
        }
        return v
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
