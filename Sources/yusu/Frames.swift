import ArgumentParser
import Foundation
import YusuDelivery
import YusuReport

struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dump per-frame analysis: time_s,channel,energy_db,speech,f0_hz.",
        discussion: "One row per 10 ms frame and channel; time_s is the frame centre, f0_hz is 0 where unvoiced."
    )

    @OptionGroup var recording: RecordingOptions

    @Option(name: .long, help: "Output format: csv.")
    var format: FramesFormat = .csv

    func run() throws {
        // The dump is how one finds out why no speech was found: write it regardless.
        let out = FileHandle.standardOutput
        let csv = FramesCSV { out.write(Data($0.utf8)) }
        let analysis = try recording.analyze(requireSpeech: false) { stream in
            stream.frameSink = { t, c, e, s, f in csv.row(timeSeconds: t, channel: c, energyDb: e, speech: s, f0Hz: f) }
        }
        csv.flush()
        if !analysis.hasSpeech {
            printError("\(recording.file): no speech found on any channel; the frames are written anyway (speech 0 throughout)")
        }
    }
}
