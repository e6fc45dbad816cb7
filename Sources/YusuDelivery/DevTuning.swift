// Development aid, compiled only with `-Xswiftc -DYUSU_DEV_TUNING`: the environment
// variable YUSU_DEV="key=value,..." overrides stage parameters, so parameter sweeps over the
// evaluation corpus (scripts/eval/) need no rebuild per setting. Release builds never read it.
#if YUSU_DEV_TUNING
    import Foundation
    import YusuSignal
    func devValue(_ key: String) -> Double? {
        guard let s = ProcessInfo.processInfo.environment["YUSU_DEV"] else { return nil }
        for part in s.split(separator: ",") {
            let kv = part.split(separator: "=")
            if kv.count == 2 && kv[0] == key { return Double(kv[1]) }
        }
        return nil
    }
    extension AnalysisSettings {
        mutating func applyDev() {
            if let v = devValue("uv") { pitch.unvoicedCost = Float(v) }
            if let v = devValue("oct") { pitch.octaveJumpCost = Float(v) }
            if let v = devValue("sw") { pitch.voicingSwitchCost = Float(v) }
            if let v = devValue("ll") { pitch.longLagCost = Float(v) }
            if let v = devValue("vsnr") { pitch.minimumVoicedSnrDb = Float(v) }
            if let v = devValue("piw") { analysis.pitchIntegrationSamples = Int(v) }
            if let v = devValue("shp") { pitch.subharmonicPenalty = Float(v) }
            if let v = devValue("shm") { pitch.subharmonicMarginDip = Float(v) }
            if let v = devValue("tw") { pitch.tiltWeight = Float(v) }
            if let v = devValue("ts") { pitch.tiltScaleDb = Float(v) }
            if let v = devValue("mwin") { voiceActivity.musicWindowSeconds = v }
            if let v = devValue("msc") { voiceActivity.musicSpectralChangeDb = Float(v) }
            if let v = devValue("dip") { nuclei.minimumProminenceDb = Float(v) }
            if let v = devValue("nsnr") { nuclei.minimumSnrDb = Float(v) }
            if let v = devValue("sw5") { nuclei.smoothingWindowFrames = v }
            if let v = devValue("sp") { nuclei.minimumSpacingSeconds = v }
            if let v = devValue("ref") { nuclei.referenceRatePerSecond = v > 0 ? v : nil }
            if let v = devValue("alpha") { nuclei.stretchExponent = v }
            if let v = devValue("minn") { nuclei.minimumNucleiForTempo = Int(v) }
            if let v = devValue("prior") { nuclei.tempoPriorSeconds = v }
            if let v = devValue("maxst") { nuclei.maximumStretch = v }
            if let v = devValue("pdip") { nuclei.periodicDip = Float(v) }
            if let v = devValue("vs") { nuclei.voicingSearchSeconds = v }
            if let v = devValue("upause") { delivery.utterancePauseSeconds = v }
            if let v = devValue("hostpause") { delivery.interruptionHostPauseSeconds = v }
            if let v = devValue("emin") { delivery.endingMinimumVoicedSeconds = v }
            if let v = devValue("egap") { delivery.endingMaximumGapSeconds = v }
            if let v = devValue("ewin") { delivery.endingWindowSeconds = v }
            if let v = devValue("on") { voiceActivity.onsetSnrDb = Float(v) }
            if let v = devValue("cont") { voiceActivity.continueSnrDb = Float(v) }
            if let v = devValue("vvad") { voiceActivity.voicedSnrDb = Float(v) }
            if let v = devValue("echo") { voiceActivity.echoMarginDb = Float(v) }
            if let v = devValue("prel") { delivery.phonationBelowPeakDb = v }
            if let v = devValue("bridge") { voiceActivity.bridgeGapSeconds = v }
            if let v = devValue("obs") { voiceActivity.onsetBelowSpeechDb = Float(v) }
            if let v = devValue("lfp") { channelLevels.floorPercentile = v }
            if let v = devValue("lsp") { channelLevels.speechPercentile = v }
            if let v = devValue("lpd") { channelLevels.periodicDip = Float(v) }
            if let v = devValue("lvs") { channelLevels.voiceFloorShare = v }
            if let v = devValue("lvb") { channelLevels.voiceFloorBelowSpeechDb = Float(v) }
            if let v = devValue("lref") { channelLevels.referenceRangeDb = Float(v) }
            if let v = devValue("lmin") { channelLevels.minimumSnrScale = Float(v) }
            if let v = devValue("nbelow") { nuclei.maximumBelowPeakDb = Float(v) }
            if let v = devValue("uva") { voiceActivity.unvoicedAttachSeconds = v }
            if let v = devValue("olb") { voiceActivity.onsetLookBackSeconds = v }
            if let v = devValue("fpshape") { filledPauses.maximumShapeChangeDb = Float(v) }
            if let v = devValue("fplevel") { filledPauses.maximumLevelChangeDb = Float(v) }
            if let v = devValue("fpstep") { filledPauses.maximumPitchStepSemitones = v }
            if let v = devValue("fpshare") { filledPauses.minimumSteadyShare = v }
            if let v = devValue("fpgap") { filledPauses.minimumGapBeforeSeconds = v }
            if let v = devValue("fpmin") { filledPauses.minimumSeconds = v }
            if let v = devValue("fpmax") { filledPauses.maximumSeconds = v }
            if let v = devValue("fpfall") { filledPauses.maximumFallSemitones = v }
            if let v = devValue("fprise") { filledPauses.maximumRiseSemitones = v }
            if let v = devValue("fpspan") { filledPauses.spanFrames = Int(v) }
            if let v = devValue("mvs") { voiceActivity.minimumVoicedSeconds = v }
            if let v = devValue("plag") { pitch.lagSeconds = v }
            if let v = devValue("tprior") { nuclei.tempoPriorSeconds = v }
            if let v = devValue("lminp") { channelLevels.minimumPeriodicFrames = Int(v) }
            if let v = devValue("nahead") { nuclei.lookAheadSeconds = v }
            if let v = devValue("forget") { channelLevels.forgetSeconds = v }
            if let v = devValue("warm") { channelLevels.warmUpSeconds = v }
            if let v = devValue("peaks") { nuclei.method = v > 0 ? .peaks : .learned }
            // Another network's weights (leave-voice-out models of scripts/train/): a file of
            // little-endian Float32 in the bundled model's shape.
            if let path = ProcessInfo.processInfo.environment["YUSU_SYLLABLE_WEIGHTS"] {
                guard let data = FileManager.default.contents(atPath: path),
                    let net = try? SyllableNet(
                        featureCount: nuclei.net.featureCount, channels: nuclei.net.channels,
                        dilations: nuclei.net.dilations, littleEndianFloat32: data)
                else { fatalError("YUSU_SYLLABLE_WEIGHTS=\(path): not weights of the bundled model's shape") }
                nuclei.net = net
            }
        }
    }
#endif

#if YUSU_DEV_TUNING
    extension ChannelStream {
        /// Candidate ending features, one line per utterance (development of the ending rule).
        func debugEnding(_ u: Utterance, start: Int, end: Int) {
            guard let span = u.endingSpan, let med = register.percentile(0.5), let p10 = register.percentile(0.1),
                let p5 = register.percentile(0.05),
                let p25 = register.percentile(0.25)
            else { return }
            let f0 = pitch.f0Hz
            func st(_ j: Int) -> Double? { f0.holds(j) && f0[j] > 0 ? 12 * log2(Double(f0[j]) / 100) : nil }
            let a = Int((span.startSeconds / hop).rounded())
            let b = Int((span.endSeconds / hop).rounded())
            let stretch = (a..<b).compactMap { st($0) }
            guard stretch.count >= 2 else { return }
            let q = max(2, stretch.count / 4)
            let endSt = median(Array(stretch.suffix(q)))
            let word = (max(start, a - 60)..<a).compactMap { st($0) }
            let wordMed = word.isEmpty ? nil : median(word)
            let all = (max(start, end - 2000)..<end).compactMap { st($0) }.sorted()
            let uRange = all.isEmpty ? 0 : all[all.count * 9 / 10] - all[all.count / 10]
            let uLow = all.isEmpty ? 0 : all[all.count / 10]
            // slope over the stretch, st/s
            let n = Double(stretch.count)
            let xs = (0..<stretch.count).map { Double($0) * hop }
            let mx = xs.reduce(0, +) / n
            let my = stretch.reduce(0, +) / n
            var sxy = 0.0
            var sxx = 0.0
            for k in 0..<stretch.count {
                sxy += (xs[k] - mx) * (stretch[k] - my)
                sxx += (xs[k] - mx) * (xs[k] - mx)
            }
            let slope = sxx > 0 ? sxy / sxx : 0
            let energies = (max(start, end - 2000)..<end).filter { frames.holds($0) }.map {
                Double(frames[$0].energyDb)
            }.sorted()
            let e90 = energies.isEmpty ? 0 : energies[energies.count * 9 / 10]
            let lastE = (max(a, b - q)..<b).filter { frames.holds($0) }.map { Double(frames[$0].energyDb) }
            let fade = lastE.isEmpty ? 0 : e90 - lastE.reduce(0, +) / Double(lastE.count)
            let line = String(
                format:
                    """
                    ENDING ch%d start %.3f end %.3f drop %.2f endMed %.2f endP10 %.2f endP5 %.2f endP25 %.2f word \
                    %@ uRange %.2f endULow %.2f slope %.2f fade %.1f stretchS %.2f voicedS %.2f\n
                    """,
                channel, u.startSeconds, u.endSeconds, u.finalDropSemitones ?? .nan, endSt - Double(med),
                endSt - Double(p10), endSt - Double(p5), endSt - Double(p25),
                wordMed.map { String(format: "%.2f", $0 - endSt) } ?? "nan", uRange, endSt - uLow, slope, fade,
                span.endSeconds - span.startSeconds, n * hop)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
#endif
