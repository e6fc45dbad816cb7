import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@testable import YusuDelivery

@Suite("The whole pipeline on a synthetic two-party call")
struct PipelineTests {
    /// The settings with the hand-set peak picker counting syllables.
    static var peaks: AnalysisSettings {
        var settings = AnalysisSettings()
        settings.nuclei.method = .peaks
        return settings
    }

    static func makeCall(in dir: TemporaryDirectory) throws -> (path: String, interruptionAt: Double) {
        try writeInterruptedCall(in: dir, echoDb: -28, format: .wavMuLaw)
    }

    @Test("syllables, interruption, hold and echo come out as laid out")
    func call() throws {
        let dir = TemporaryDirectory()
        let (path, at) = try Self.makeCall(in: dir)
        let m = try CallScorer().analyze(path: path).measures
        #expect(m.channels == 2 && abs(m.durationSeconds - 30) < 0.01)
        // The learned counter (the default) was trained on speech: these harmonic-tone bursts
        // lie outside what it saw, and it counts them within 30%. The hand-set peak picker,
        // still a method of the settings, counts them exactly.
        #expect(abs(m.agent.syllables - 34) <= 10, "agent syllables \(m.agent.syllables)")
        #expect(
            abs((m.customer?.syllables ?? 0) - 14) <= 4,
            "customer syllables \(String(describing: m.customer?.syllables))")
        let peaks = try CallScorer(settings: Self.peaks).analyze(path: path).measures
        #expect(peaks.agent.syllables == 34 && peaks.customer?.syllables == 14)
        let agentInterruptions = m.interruptions?.filter { $0.by == .agent } ?? []
        #expect(agentInterruptions.count == 1)
        #expect(abs((agentInterruptions.first?.atSeconds ?? 0) - at) < 0.15)
        #expect(m.interruptions?.filter { $0.by == .customer }.isEmpty == true)
        // Silence from the end of the agent's second burst (~10.4 s) to 22 s.
        #expect(m.holds.count == 1)
        if let hold = m.holds.first {
            #expect(abs(hold.startSeconds - (at + 2.5 - 0.07)) < 0.3 && abs(hold.endSeconds - 22) < 0.3)
        }
        // The customer's channel holds the agent's echo; it must not become customer speech.
        let customerSpeech = m.customer?.phonationTimeSeconds ?? 0
        #expect(customerSpeech < 4.0, "customer speech \(customerSpeech) s")
    }

    @Test("room tone in a pause is not phonation, though it stands above the line noise")
    func roomTone() throws {
        // Corpus case: pauses inside slowed-down sentences carry the source recording's
        // room tone, ~30 dB under the voice but 10 dB over the line noise.
        let dir = TemporaryDirectory()
        let rate = 8000
        let train = Synth.syllableTrain(count: 8, leadSeconds: 0)  // 2.0 s
        var agent = Synth.noise(seconds: 8, rateHz: rate, rmsDbov: -70, seed: 9)
        agent = Synth.mix(agent, Synth.place(train, atSeconds: 1, totalSeconds: 8, rateHz: rate))
        agent = Synth.mix(
            agent,
            Synth.place(
                Synth.noise(seconds: 0.6, rateHz: rate, rmsDbov: -52, seed: 10), atSeconds: 3, totalSeconds: 8,
                rateHz: rate))
        agent = Synth.mix(agent, Synth.place(train, atSeconds: 3.6, totalSeconds: 8, rateHz: rate))
        let path = try writeRecording(dir.file("room.wav"), channels: [agent], rateHz: rate)
        let m = try CallScorer().analyze(path: path).measures
        // Two 1.93 s stretches of syllables; the 0.6 s of room tone between is not phonation.
        #expect(m.agent.phonationTimeSeconds < 4.3, "phonation \(m.agent.phonationTimeSeconds) s")
        #expect(m.agent.phonationTimeSeconds > 3.4)
    }

    @Test("swapping channels with --agent-channel 1 swaps the parties")
    func agentChannel() throws {
        let dir = TemporaryDirectory()
        let (path, _) = try Self.makeCall(in: dir)
        let m = try CallScorer().analyze(path: path, options: CallOptions(agentChannel: 1)).measures
        #expect(m.agent.channel == 1 && abs(m.agent.syllables - 14) <= 4)
        #expect(
            try CallScorer(settings: Self.peaks).analyze(path: path, options: CallOptions(agentChannel: 1)).measures
                .agent.syllables == 14)
        #expect(m.interruptions?.filter { $0.by == .customer }.count == 1)
    }

    @Test("mono: the one channel is the agent; two-party measures are nil")
    func mono() throws {
        let dir = TemporaryDirectory()
        let x = Synth.mix(Synth.syllableTrain(count: 15), Synth.noise(seconds: 4.35, rateHz: 8000, rmsDbov: -60))
        let path = try writeRecording(dir.file("mono.flac"), channels: [x], rateHz: 8000, format: .flac)
        let m = try CallScorer().analyze(path: path).measures
        #expect(m.customer == nil && m.interruptions == nil && m.backchannels == nil)
        #expect(abs(m.agent.syllables - 15) <= 4, "\(m.agent.syllables) syllables")
        #expect(try CallScorer(settings: Self.peaks).analyze(path: path).measures.agent.syllables == 15)
    }

    @Test("silence is refused: no speech on any channel")
    func silent() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(
            dir.file("silent.wav"),
            channels: [[Float](repeating: 0, count: 16000), [Float](repeating: 0, count: 16000)], rateHz: 8000)
        #expect(throws: AudioError.noSpeech(path: path)) { try CallScorer().analyze(path: path) }
    }

    @Test("a channel that does not exist is refused")
    func noChannel() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("m.wav"), channels: [Synth.syllableTrain(count: 5)], rateHz: 8000)
        #expect(throws: AudioError.noSuchChannel(path: path, channel: 1, channels: 1)) {
            try CallScorer().analyze(path: path, options: CallOptions(agentChannel: 1))
        }
    }
}
