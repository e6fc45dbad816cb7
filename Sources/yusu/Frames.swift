import ArgumentParser
import Foundation
import YusuDelivery
import YusuReport
import YusuSignal

struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
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
        let header =
            syllableFeatures
            ? "time_s,channel," + (0..<SyllableFeatureExtractor.count).map { "x\($0)" }.joined(separator: ",")
            : FramesCSV.header
        let csv = FramesCSV(header: header) { out.write(Data($0.utf8)) }
        let analysis = try recording.analyze { stream in
            if syllableFeatures {
                stream.syllableFeatureSink = { t, c, x in csv.row(timeSeconds: t, channel: c, values: x) }
            } else {
                stream.frameSink = { t, c, e, s, f in
                    csv.row(timeSeconds: t, channel: c, energyDb: e, speech: s, f0Hz: f)
                }
            }
        }
        csv.flush()
        if !analysis.hasSpeech {
            printError(
                "\(recording.file): no speech found on any channel; the frames are written anyway (speech 0 throughout)"
            )
        }
    }
}
