// Yusu's hot paths under ordo-one/benchmark: wall time, throughput and malloc counts.
//
// The allocation gate: the frame loop (FrameAnalyzer.process over 60 s of audio, analyser
// made outside the measured region) must allocate nothing per frame, and the whole
// streaming call (CallStream fed 20 ms pieces) nothing per frame either. Its malloc count is
// checked against the committed thresholds in Thresholds/ by
//   swift package benchmark thresholds check --target YusuBenchmarks
// 6,000 frames allocating even one block each would exceed them a hundredfold.
import Benchmark
import Foundation
import YusuDelivery
import YusuSignal

/// 60 s of a two-voice "call" on one channel: syllable-rate modulated harmonic tones with
/// pauses, in line noise: enough structure for every stage to do real work.
func syntheticChannel(seconds: Double, f0Hz: Double, seed: UInt64, rateHz: Int = 8000) -> [Float] {
    var state = seed
    func noise() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(Double(state >> 11) / Double(1 << 53) - 0.5) * 0.002
    }
    let n = Int(seconds * Double(rateHz))
    var out = [Float](repeating: 0, count: n)
    var phase = 0.0
    for i in 0..<n {
        let t = Double(i) / Double(rateHz)
        let f0 = f0Hz * (1 + 0.08 * sin(2 * .pi * 0.4 * t))
        phase += 2 * .pi * f0 / Double(rateHz)
        let talking = sin(2 * .pi * t / 9) > -0.2  // turns of a few seconds
        let syllable = max(0, sin(2 * .pi * 4.5 * t))  // 4.5 syllables per second
        var v = 0.0
        for k in 2...12 { v += sin(Double(k) * phase) / Double(k) }
        out[i] = (talking ? Float(v * syllable * 0.1) : 0) + noise()
    }
    return out
}

let seconds60 = 60.0
let agent = syntheticChannel(seconds: seconds60, f0Hz: 190, seed: 1)
let customer = syntheticChannel(seconds: seconds60, f0Hz: 120, seed: 2)

func features(_ samples: [Float]) -> FrameFeatures {
    FrameAnalyzer.features(of: samples)
}

/// A 5-minute stereo 8 kHz call written once for the whole-score benchmark.
let fiveMinuteCall: String = {
    let path = NSTemporaryDirectory() + "yusu-bench-5min.wav"
    if !FileManager.default.fileExists(atPath: path) {
        var channels: [[Float]] = [[], []]
        for _ in 0..<5 {
            channels[0] += agent
            channels[1] += customer
        }
        try? AudioFileWriter.write(
            path: path, samples: AudioFileWriter.interleave(channels), channels: 2, sampleRateHz: 8000,
            format: .wavPCM16)
    }
    return path
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .milliseconds,
        maxDuration: .seconds(5),
        maxIterations: 20
    )

    // The allocation gate: the per-frame loop over 60 s (6,000 frames) of one channel.
    Benchmark(
        "frame-analysis-1ch-60s",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal],
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20])])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let analyzer = FrameAnalyzer(ringFrames: 8192)
            var block = [Float](repeating: 0, count: 4096)
            benchmark.startMeasurement()
            var i = 0
            while i < agent.count {
                let end = min(agent.count, i + 4096)
                for j in i..<end { block[j - i] = agent[j] }
                block.withUnsafeBufferPointer { analyzer.process(UnsafeBufferPointer(rebasing: $0[0..<(end - i)])) }
                i = end
            }
            benchmark.stopMeasurement()
            blackHole(analyzer.sampleCount)
        }
    }

    let agentFeatures = features(agent)
    let customerFeatures = features(customer)
    // Levels measured once, as `score` does: each stage below is timed alone.
    let agentLevels = ChannelLevels.measure(agentFeatures)
    let agentPitch = PitchTracker.track(agentFeatures, levels: agentLevels)
    let customerPitch = PitchTracker.track(customerFeatures)
    let agentSpeech = VoiceActivityDetector().detect(
        agentFeatures, pitch: agentPitch, other: customerFeatures, levels: agentLevels)

    // The three whole-array stages allocate their outputs and run lists, whose growth steps
    // follow the allocator's block sizes (CI's machine counted 33 where this one counts 32):
    // 20 allocations of slack against the 6,000 frames a per-frame allocation would add.
    let perStage = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20])])
    Benchmark("pitch-tracking-1ch-60s", configuration: perStage) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(PitchTracker.track(agentFeatures, levels: agentLevels)) }
    }
    Benchmark("voice-activity-1ch-60s", configuration: perStage) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                VoiceActivityDetector().detect(
                    agentFeatures, pitch: agentPitch, other: customerFeatures, levels: agentLevels))
        }
    }
    Benchmark("syllable-nuclei-1ch-60s", configuration: perStage) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                SyllableNucleusDetector().detect(
                    agentFeatures, pitch: agentPitch, speech: agentSpeech, levels: agentLevels))
        }
    }
    // The learned syllable stage ([14]) over the same 6,000 frames: its tracker made outside
    // the measured region, so the count is what the frames themselves allocate (the nuclei
    // it hands over, none per frame).
    Benchmark(
        "learned-nuclei-1ch-60s",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal],
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20])])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            var tracker = LearnedNucleusTracker()
            var nuclei: [Int] = []
            nuclei.reserveCapacity(1024)
            benchmark.startMeasurement()
            for i in 0..<agentFeatures.frameCount {
                tracker.push(
                    frame: agentFeatures.frame(i), f0Hz: agentPitch.f0Hz[i], speech: agentSpeech[i], levels: agentLevels
                )
                tracker.take(into: &nuclei)
            }
            tracker.finish()
            tracker.take(into: &nuclei)
            benchmark.stopMeasurement()
            blackHole(nuclei.count)
        }
    }
    blackHole(customerPitch)
    // The streaming path: a 60 s stereo call pushed in 20 ms pieces, as `yusu live` feeds
    // it, each piece analysed as it comes (no analysis step: the most runs of the analysis;
    // live's 40 ms steps add one buffer when the call starts). 12,000 frames (two channels)
    // allocating one block each would be 12,000 mallocs; what it may allocate is per
    // utterance and per event (a few hundred at most).
    let interleaved = AudioFileWriter.interleave([agent, customer])
    Benchmark(
        "streaming-call-60s-20ms-pieces",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal], maxIterations: 10,
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 25])])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let stream = CallStream(sampleRateHz: 8000, channelCount: 2)
            var piece = [Float](repeating: 0, count: 320)
            benchmark.startMeasurement()
            var i = 0
            while i < interleaved.count {
                let n = min(320, interleaved.count - i)
                for k in 0..<n { piece[k] = interleaved[i + k] }
                try? stream.push(&piece, frames: n / 2)
                i += n
            }
            blackHole(stream.finish(file: "synthetic", formatName: "raw").measures.agent.syllables)
            benchmark.stopMeasurement()
        }
    }
    // The whole score allocates per stage and per utterance, never per frame: 10% of slack
    // lets a report change add a few arrays, while one allocation per frame (60,000 frames
    // in this call) would still fail the gate many times over.
    Benchmark(
        "whole-score-5min-stereo-8k",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal], maxIterations: 10,
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 10])])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try CallScorer().score(path: fiveMinuteCall))
        }
    }

    // The service's call list as it is written (a page of 50 calls, 13,878 bytes): built as
    // a `JSONValue` and written by its writer, against the same answer as `Encodable`
    // structs through `JSONEncoder` (sorted keys, absent values written `null` by `@Null`).
    // The two must give the same bytes; the README's "One JSON" compares their times.
    let apiPage = APIPageSample()
    precondition(apiPage.viaJSONValue() == apiPage.viaJSONEncoder(), "the two writers disagree")
    Benchmark(
        "api-page-50-calls-jsonvalue",
        configuration: .init(metrics: [.wallClock], timeUnits: .microseconds, maxIterations: 2000)
    ) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(apiPage.viaJSONValue()) }
    }
    Benchmark(
        "api-page-50-calls-jsonencoder",
        configuration: .init(metrics: [.wallClock], timeUnits: .microseconds, maxIterations: 2000)
    ) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(apiPage.viaJSONEncoder()) }
    }
}

/// A page of `/v1/calls` (50 calls, one without a failure reason, all with a file name),
/// two ways.
struct APIPageSample {
    struct Call: Encodable {
        var id: Int
        var call_id, agent_id, date, status: String
        @Null var failure_reason: String?
        @Null var duration_s: Double?
        @Null var score: Double?
        @Null var speech_rate_cpm: Double?
        @Null var agent_interruptions: Int?
        var failed_rules: [String]
        @Null var file_name: String?
    }
    struct Page: Encodable {
        var calls: [Call]
        var total, page, per_page, pages: Int
    }
    let calls: [Call] = (0..<50).map { i in
        Call(
            id: i, call_id: "c-\(i)", agent_id: "agent_07", date: "2026-11-23", status: "scored", failure_reason: nil,
            duration_s: 281.5 + Double(i), score: 52.63157894736842, speech_rate_cpm: 187.3, agent_interruptions: 2,
            failed_rules: ["speech_rate", "falling_endings"], file_name: "call_\(i).wav")
    }
    let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    func viaJSONEncoder() -> [UInt8] {
        Array((try? encoder.encode(Page(calls: calls, total: 1000, page: 1, per_page: 50, pages: 20))) ?? Data())
    }

    func viaJSONValue() -> [UInt8] {
        JSONValue.obj([
            "calls": .arr(
                calls.map { c in
                    .obj([
                        "id": .whole(c.id), "call_id": .str(c.call_id), "agent_id": .str(c.agent_id),
                        "date": .str(c.date), "status": .str(c.status), "failure_reason": .string(c.failure_reason),
                        "duration_s": .number(c.duration_s), "score": .number(c.score),
                        "speech_rate_cpm": .number(c.speech_rate_cpm),
                        "agent_interruptions": .int(c.agent_interruptions),
                        "failed_rules": .arr(c.failed_rules.map { .str($0) }), "file_name": .string(c.file_name),
                    ])
                }),
            "total": .whole(1000), "page": .whole(1), "per_page": .whole(50), "pages": .whole(20),
        ]).bytes
    }
}
