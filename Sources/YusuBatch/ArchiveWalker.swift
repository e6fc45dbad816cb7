import CSV
import Foundation

/// One recording to score, with who and what it is.
public struct BatchItem: Sendable, Equatable, Codable {
    public var path: String
    public var agentId: String
    public var callId: String
    /// Day of the call, `yyyy-MM-dd`.
    public var callDate: String
    public var agentChannel: Int
    /// Extra manifest columns, kept with the results.
    public var metadata: [String: String]
    /// Why this entry cannot be scored before any audio is read (a bad manifest row, a
    /// folder that cannot be listed): the batch records it as a failed file and goes on.
    public var problem: String? = nil

    public init(
        path: String, agentId: String, callId: String, callDate: String, agentChannel: Int,
        metadata: [String: String], problem: String? = nil
    ) {
        self.path = path
        self.agentId = agentId
        self.callId = callId
        self.callDate = callDate
        self.agentChannel = agentChannel
        self.metadata = metadata
        self.problem = problem
    }
}

/// How agent ids, call ids and dates come from a path when there is no manifest.
public struct PathPatterns: Sendable {
    /// Regular expression with a named group `agent`, matched against the path relative to
    /// the archive root. Default: the folder holding the file (`agent_17/0001.wav` → `agent_17`).
    public var agent: NSRegularExpression
    /// Named group `call`. Default: the file name without its extension.
    public var call: NSRegularExpression
    /// Named group `date` (`yyyy-MM-dd` or `yyyyMMdd`); when it does not match, the file's
    /// modification day (UTC) is used.
    public var date: NSRegularExpression

    public static let defaultAgent = #"(?<agent>[^/]+)/[^/]+$"#
    public static let defaultCall = #"(?<call>[^/]+?)(\.[^./]+)?$"#
    public static let defaultDate = #"(?<date>\d{4}-\d{2}-\d{2}|\d{8})"#

    public struct PatternError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(agent: String = defaultAgent, call: String = defaultCall, date: String = defaultDate) throws {
        func compile(_ pattern: String, group: String, flag: String) throws -> NSRegularExpression {
            guard pattern.contains("(?<\(group)>") else {
                throw PatternError(description: "\(flag) '\(pattern)' needs a named group (?<\(group)>...)")
            }
            do { return try NSRegularExpression(pattern: pattern) } catch {
                throw PatternError(description: "\(flag) '\(pattern)' is not a valid regular expression")
            }
        }
        self.agent = try compile(agent, group: "agent", flag: "--agent-id-pattern")
        self.call = try compile(call, group: "call", flag: "--call-id-pattern")
        self.date = try compile(date, group: "date", flag: "--date-pattern")
    }

    static func capture(_ regex: NSRegularExpression, _ group: String, in text: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex.firstMatch(in: text, range: range) else { return nil }
        let r = match.range(withName: group)
        guard r.location != NSNotFound, let swiftRange = Range(r, in: text) else { return nil }
        let value = String(text[swiftRange])
        return value.isEmpty ? nil : value
    }

    /// `yyyyMMdd` → `yyyy-MM-dd`; `yyyy-MM-dd` unchanged.
    static func normaliseDate(_ text: String) -> String {
        if text.count == 8, !text.contains("-") {
            let a = text.index(text.startIndex, offsetBy: 4)
            let b = text.index(text.startIndex, offsetBy: 6)
            return "\(text[..<a])-\(text[a..<b])-\(text[b...])"
        }
        return text
    }

    /// The day as `yyyy-MM-dd` when `text` is a real calendar day written `yyyy-MM-dd` or
    /// `yyyyMMdd` (optionally followed by a time, `2026-11-20T08:15`); nil otherwise
    /// (`20/11/2026`, `2026-02-30`), since such a day would silently drop out of `--since`.
    public static func validDay(_ text: String) -> String? {
        calendarDay(
            normaliseDate(
                text.count > 10 && text.dropFirst(10).first.map({ "T ".contains($0) }) == true
                    ? String(text.prefix(10)) : text))
    }

    /// `text` when it is a real calendar day written `yyyy-MM-dd` (`2026-02-28`), nil
    /// otherwise (`2026-13-45`, `2026-02-30`, `20261128`): the one check of a day that a
    /// user or a client gives (`report --since`, the API's `since`/`until`, an upload's `date`).
    public static func calendarDay(_ text: String) -> String? {
        guard text.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var components = DateComponents()
        components.year = parts[0]
        components.month = parts[1]
        components.day = parts[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard components.isValidDate(in: calendar) else { return nil }
        return text
    }
}

/// The day a file was last modified, UTC, `yyyy-MM-dd`.
func modificationDay(_ path: String) -> String {
    let date = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
    return utcDay(date ?? Date())
}

func utcDay(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: date)
}

/// Where the recordings come from: a folder tree, or a manifest CSV.
public enum ArchiveSource: Sendable {
    /// Every recording (`audioExtensions`, any case) below the folder, walked lazily.
    case directory(String, PathPatterns)
    /// A CSV with header `path,agent_id,call_id,agent_channel` (more columns are metadata;
    /// a `date` column gives the call's day). Relative paths are relative to the manifest.
    case manifest(String)

    /// The file name extensions of every format `yusu score` reads (libsndfile's: WAV and
    /// its relatives, FLAC, Ogg Vorbis and Opus, MP3, AIFF, AU, CAF).
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "aifc",
        "au", "snd", "w64", "rf64", "caf",
    ]

    /// True when the file at `path` is a recording rather than a manifest: by its name, or by
    /// the first bytes of a RIFF/RF64 WAV, FLAC, Ogg, MP3, AIFF, AU or CAF file.
    public static func looksLikeAudio(path: String) -> Bool {
        if audioExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased()) { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        guard head.count == 4 else { return false }
        let magic = String(decoding: head, as: UTF8.self)
        if ["RIFF", "RF64", "fLaC", "OggS", "FORM", ".snd", "caff"].contains(magic) { return true }
        if head[0] == 0x49 && head[1] == 0x44 && head[2] == 0x33 { return true }  // ID3: MP3
        return head[0] == 0xFF && head[1] & 0xE0 == 0xE0  // an MPEG audio frame
    }

    /// What a folder holds: the recordings Yusu would score, and the other files it skips.
    public struct Survey: Sendable, Equatable {
        public var recordings = 0
        /// Recordings whose path names no agent (a flat folder under the default pattern):
        /// their agent is "unknown".
        public var withoutAgent = 0
        /// Files skipped for not being recordings, by extension ("" for none).
        public var skippedByExtension: [String: Int] = [:]
        public var skipped: Int { skippedByExtension.values.reduce(0, +) }
        public init() {}

        /// "3 other files skipped (2 .txt, 1 .pdf)", or "" when none.
        public var skippedText: String {
            guard skipped > 0 else { return "" }
            let kinds = skippedByExtension.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(5)
                .map { "\($0.value) \($0.key.isEmpty ? "without extension" : "." + $0.key)" }
            return
                """
                \(skipped) other file\(skipped == 1 ? "" : "s") skipped \
                (\(kinds.joined(separator: ", "))\(skippedByExtension.count > 5 ? ", …" : ""))
                """
        }
    }

    public struct ManifestError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Calls `body` with each item in turn, never holding the whole archive in memory.
    /// `body` returns false to stop early. `skipped` hears of each file of a folder that is
    /// not a recording.
    public func forEach(
        defaultAgentChannel: Int, skipped: ((String) -> Void)? = nil, _ body: (BatchItem) throws -> Bool
    ) throws {
        switch self {
        case .directory(let root, let patterns):
            let rootURL = URL(fileURLWithPath: root).standardizedFileURL
            // A folder that cannot be listed (permissions, I/O) is one failed entry, not a
            // silent gap in the night.
            var unlisted: [(String, String)] = []
            guard
                let walker = FileManager.default.enumerator(
                    at: rootURL, includingPropertiesForKeys: [.isRegularFileKey],
                    options: [.skipsHiddenFiles],
                    errorHandler: { url, error in
                        unlisted.append((url.path, Self.reason(error)))
                        return true
                    })
            else { return }
            let rootPath = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
            func reportUnlisted() throws -> Bool {
                while !unlisted.isEmpty {
                    let (path, reason) = unlisted.removeFirst()
                    let item = BatchItem(
                        path: path, agentId: "unknown", callId: URL(fileURLWithPath: path).lastPathComponent,
                        callDate: utcDay(Date()), agentChannel: defaultAgentChannel, metadata: [:],
                        problem: "\(path): this folder cannot be read (\(reason)); its recordings were not scored")
                    if try !body(item) { return false }
                }
                return true
            }
            // The enumerator lists one folder at a time; sort within nothing: order of the
            // file system is fine for a batch and keeps memory flat.
            while let next = walker.nextObject() as? URL {
                if try !reportUnlisted() { return }
                let path = next.standardizedFileURL.path
                // What the path is, links followed: a folder is walked, a recording that is not
                // a regular file (a FIFO, a device, a broken link) is a failed entry with its reason.
                var status = stat()
                let exists = stat(path, &status) == 0
                if exists && status.st_mode & S_IFMT == S_IFDIR { continue }
                let ext = next.pathExtension.lowercased()
                guard Self.audioExtensions.contains(ext) else {
                    skipped?(ext)
                    continue
                }
                let relative =
                    path.hasPrefix(rootPath) ? String(path.dropFirst(rootPath.count)) : next.lastPathComponent
                let stem = next.deletingPathExtension().lastPathComponent
                let item = BatchItem(
                    path: path,
                    agentId: PathPatterns.capture(patterns.agent, "agent", in: relative) ?? "unknown",
                    callId: PathPatterns.capture(patterns.call, "call", in: relative) ?? stem,
                    callDate: PathPatterns.capture(patterns.date, "date", in: relative).flatMap(PathPatterns.validDay)
                        ?? modificationDay(path),
                    agentChannel: defaultAgentChannel, metadata: [:],
                    problem: exists ? nil : "a link to a file that does not exist")
                if try !body(item) { return }
            }
            _ = try reportUnlisted()
        case .manifest(let manifestPath):
            guard let stream = InputStream(fileAtPath: manifestPath) else {
                throw ManifestError(description: "\(manifestPath): cannot open the manifest")
            }
            let reader: CSVReader
            do { reader = try CSVReader(stream: stream, hasHeaderRow: true, trimFields: true) } catch {
                throw ManifestError(description: "\(manifestPath): not a readable CSV (\(error))")
            }
            let header = reader.headerRow ?? []
            guard header.contains("path") else {
                throw ManifestError(
                    description:
                        """
                        \(manifestPath): the header must name a 'path' column \
                        (path,agent_id,call_id,agent_channel); found \
                        \(Self.printable(header.joined(separator: ",")))
                        """
                )
            }
            let base = URL(fileURLWithPath: manifestPath).deletingLastPathComponent()
            var line = 1
            while let row = reader.next() {
                line += 1
                if row.allSatisfy({ $0.isEmpty }) { continue }  // a blank line
                var fields: [String: String] = [:]
                for (name, value) in zip(header, row) { fields[name] = value }
                let rawPath = fields["path"] ?? ""
                let path =
                    rawPath.isEmpty
                    ? "\(manifestPath):\(line)"
                    : (rawPath.hasPrefix("/") ? rawPath : base.appendingPathComponent(rawPath).standardizedFileURL.path)
                // A bad row is one failed entry with its reason; the rest of the night goes on.
                var problems: [String] = []
                if rawPath.isEmpty { problems.append("the row has no path") }
                // A NUL would cut the path short where the file system reads it: refuse the row.
                for (name, value) in fields.sorted(by: { $0.key < $1.key }) where value.utf8.contains(0) {
                    problems.append("the \(Self.printable(name)) field holds a NUL byte ('\(Self.printable(value))')")
                }
                var channel = defaultAgentChannel
                if let text = fields["agent_channel"], !text.isEmpty {
                    if let c = Int(text), c == 0 || c == 1 {
                        channel = c
                    } else {
                        problems.append("agent_channel must be 0 or 1 (got '\(text)')")
                    }
                }
                let known: Set<String> = ["path", "agent_id", "call_id", "agent_channel"]
                let metadata = fields.filter { !known.contains($0.key) }
                var day: String? = nil
                if let text = metadata["date"], !text.isEmpty {
                    day = PathPatterns.validDay(text)
                    if day == nil {
                        problems.append("date must be a day written yyyy-MM-dd or yyyyMMdd (got '\(text)')")
                    }
                }
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let item = BatchItem(
                    path: path,
                    agentId: fields["agent_id"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown",
                    callId: fields["call_id"].flatMap { $0.isEmpty ? nil : $0 } ?? stem,
                    callDate: day ?? (rawPath.isEmpty ? utcDay(Date()) : modificationDay(path)),
                    agentChannel: channel, metadata: metadata,
                    problem: problems.isEmpty ? nil : "\(manifestPath):\(line): \(problems.joined(separator: "; "))")
                if try !body(item) { return }
            }
            // CSV.swift ends every stream with `cannotReadFile` (its end-of-input signal); any
            // other error (bad UTF-8, a failing stream) stops the rows early and is reported.
            if let error = reader.error, !(error is CSVError && "\(error)" == "cannotReadFile") {
                // The rows before stay scored; what cannot be read is one failed entry.
                let item = BatchItem(
                    path: "\(manifestPath):\(line + 1)", agentId: "unknown", callId: "manifest-line-\(line + 1)",
                    callDate: utcDay(Date()), agentChannel: defaultAgentChannel, metadata: [:],
                    problem: "\(manifestPath):\(line + 1): the manifest cannot be read from this line on (\(error))")
                _ = try body(item)
            }
        }
    }

    /// The OS's words for a file-system error ("Permission denied"), not Foundation's.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    /// Counts the items and what was skipped (a first, cheap pass, for progress totals and
    /// to say what an empty night looked at).
    public func survey() throws -> Survey {
        var survey = Survey()
        try forEach(
            defaultAgentChannel: 0, skipped: { survey.skippedByExtension[$0, default: 0] += 1 },
            { item in
                survey.recordings += 1
                if item.problem == nil && item.agentId == "unknown" { survey.withoutAgent += 1 }
                return true
            })
        return survey
    }

    /// Counts the items.
    public func count() throws -> Int { try survey().recordings }

    /// Checks that the source can be read at all (a manifest opens and names its `path`
    /// column), before anything is created for it.
    public func validate() throws {
        guard case .manifest = self else { return }
        try forEach(defaultAgentChannel: 0) { _ in false }
    }

    /// Text fit for a one-line message: control characters and NUL escaped (`\x1b`), at most
    /// `limit` characters. The one way outside text (file names, ids) reaches a terminal: a
    /// name cannot set the window's title, clear the screen or split a line.
    public static func printable(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if scalar.properties.generalCategory == .control {
                out += String(format: "\\x%02x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > limit ? out + "…" : out
    }

    /// A multi-line text (a text report) fit for a terminal: each line as `printable`
    /// makes it, whole, the line breaks kept.
    public static func printableLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { printable(String($0), limit: .max) }.joined(
            separator: "\n")
    }
}
