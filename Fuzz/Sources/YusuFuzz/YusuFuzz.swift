// libFuzzer entry point: every input is a would-be recording. It is written to a file (the
// reader takes paths, as the product does) and scored. A thrown AudioError is a correct
// answer to a bad file; a trap, a sanitizer report or a hang is a bug.
import Foundation
import YusuDelivery
import YusuSignal

enum Scratch {
    static let path: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return dir + "/yusu-fuzz-\(getpid()).wav"
    }()
}

// SwiftPM links an executable target's entry point as `<module>_main`; hand it to
// libFuzzer's driver (so libFuzzer's own `main` is not needed).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("YusuFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard FileManager.default.createFile(atPath: Scratch.path, contents: bytes) else { return 0 }
    defer { unlink(Scratch.path) }
    do {
        let scored = try CallScorer().score(path: Scratch.path)
        let (analysis, card) = (scored.analysis, scored.card)
        // Every number a report prints must be finite.
        for v in card.verdicts { if let x = v.value { precondition(x.isFinite, "\(v.rule) value \(x)") } }
        // (Not "at most 0 dBov": P.56 divides all the energy by the active time only, so on
        // noise-like data it can exceed full scale; the fuzzer found such a file, kept in
        // Fixtures/fuzz/fuzz_pcm8_level_above_0dbov.wav.)
        for s in [analysis.measures.agent] + (analysis.measures.customer.map { [$0] } ?? []) {
            for x in [
                s.activeLevelDbov, s.speechRateCharactersPerMinute, s.articulationRateCharactersPerMinute, s.medianF0Hz,
            ] {
                if let x { precondition(x.isFinite, "\(s.party) measure \(x)") }
            }
        }
    } catch is AudioError {
        // a clear refusal: fine
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    streamDecode(bytes)
    return 0
}

/// The same bytes as `yusu live -` reads them: the hand-written WAV stream parser, fed in
/// two pieces split where the data says, then the streaming analysis on what it decoded.
func streamDecode(_ bytes: Data) {
    var decoder = WAVStreamDecoder()
    var samples: [Float] = []
    let split = bytes.isEmpty ? 0 : Int(bytes[bytes.startIndex]) % max(1, bytes.count)
    do {
        try bytes.prefix(split).withUnsafeBytes { _ = try decoder.push($0, into: &samples) }
        try bytes.dropFirst(split).withUnsafeBytes { _ = try decoder.push($0, into: &samples) }
    } catch is StreamDecodeError {
        return
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    guard let format = decoder.format else { return }
    precondition(samples.count % format.channelCount == 0, "a partial sample frame came out")
    guard AudioFileReader.supportedChannelCounts.contains(format.channelCount),
        AudioFileReader.supportedSampleRatesHz.contains(format.sampleRateHz), !samples.isEmpty
    else { return }
    let stream = CallStream(sampleRateHz: format.sampleRateHz, channelCount: format.channelCount)
    do { try stream.push(&samples, frames: samples.count / format.channelCount) } catch is SampleError { return } catch
    {
        fatalError("unexpected error type: \(error)")
    }
    // Through the scorer's own end of a stream, as live calls end: what cannot be scored is
    // an AudioError, never a crash.
    let scored: CallScorer.Scored
    do { scored = try CallScorer().finish(stream, name: "fuzz", formatName: format.formatName) } catch is AudioError {
        return
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    for v in scored.card.verdicts {
        if let x = v.value { precondition(x.isFinite, "\(v.rule) value \(x)") }
    }
}
