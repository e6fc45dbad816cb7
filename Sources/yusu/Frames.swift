import ArgumentParser
import Foundation
import YusuDelivery
import YusuReport
import YusuSignal

struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dump per-frame analysis: time_s,channel,energy_db,speech,f0_hz.",
        discussion: "One row per 10 ms frame and channel; time_s is the frame centre, f0_hz is 0 where unvoiced."
    )

    @OptionGroup var recording: RecordingOptions

    @Option(name: .long, help: "Output format: csv.")
    var format: FramesFormat = .csv

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Write the learned syllable stage's input instead: time_s,channel,x0..x14 (SyllableFeatures.swift).",
            discussion: "The material scripts/train/ trains the syllable model on."))
    var syllableFeatures = false

    func run() throws {
        // The dump is how one finds out why no speech was found: write it regardless.
        let out = FileHandle.standardOutput
        let csv = FramesCSV { out.write(Data($0.utf8)) }
        var text = ""
        if syllableFeatures {
            text = "time_s,channel," + (0..<SyllableFeatureExtractor.count).map { "x\($0)" }.joined(separator: ",") + "\n"
        }
        let analysis = try recording.analyze(requireSpeech: false) { stream in
            if syllableFeatures {
                stream.syllableFeatureSink = { t, c, x in
                    text += String(format: "%.3f,%d", t, c)
                    for v in x { text += String(format: ",%.4f", v) }
                    text += "\n"
                    if text.utf8.count > 1 << 16 { out.write(Data(text.utf8)); text = "" }
                }
            } else {
                stream.frameSink = { t, c, e, s, f in csv.row(timeSeconds: t, channel: c, energyDb: e, speech: s, f0Hz: f) }
            }
        }
        if syllableFeatures { out.write(Data(text.utf8)) } else { csv.flush() }
        if !analysis.hasSpeech {
            printError("\(recording.file): no speech found on any channel; the frames are written anyway (speech 0 throughout)")
        }
    }
}
