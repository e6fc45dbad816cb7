/// One 10 ms frame of one channel: everything the later stages read of it, 52 bytes.
///
/// The frame analyser fills the spectral and pitch fields at the analysis rate; the P.56
/// fields come from the same hop measured at the file's own rate.
public struct Frame: Sendable, Equatable {
    /// Hann-weighted mean-square level of the spectral window, dBov.
    public var energyDb: Float = -120
    /// Band energies, dBov: 60–300, 300–1000, 1000–2000, 2000–3800 Hz (`FrameFeatures.bandEdgesHz`).
    public var band0Db: Float = -120, band1Db: Float = -120, band2Db: Float = -120, band3Db: Float = -120
    /// Syllable envelope: mean of the log energies of 12 log-spaced bands over 250–3400 Hz, dB.
    public var envelopeDb: Float = -120
    /// Spectral flatness over 300–3400 Hz, 0...1.
    public var flatness: Float = 1
    /// Spectral change: RMS difference, dB, between the shapes (log energies less their
    /// mean) of the envelope's 12 bands in this frame and in the frame 20 ms before. A gain
    /// (AGC, compression) moves every band alike and leaves it unchanged.
    public var spectralChangeDb: Float = 0
    /// Pitch candidates: fractional lags in 1/256 sample (0 = none) and YIN dips in 1/160,
    /// deepest first (`FrameFeatures.dipScale`).
    public var lagQ8: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
    public var dipQ = SIMD4<UInt8>(repeating: 255)
    /// Mean square of the hop's samples at the file's own rate (P.56), linear.
    public var hopMeanSquare: Float = 0
    /// Peak of the P.56 envelope within the hop, linear.
    public var hopEnvelopePeak: Float = 0

    public init() {}

    public static func == (a: Frame, b: Frame) -> Bool {
        a.energyDb == b.energyDb && a.band0Db == b.band0Db && a.band1Db == b.band1Db && a.band2Db == b.band2Db
            && a.band3Db == b.band3Db
            && a.envelopeDb == b.envelopeDb && a.flatness == b.flatness && a.spectralChangeDb == b.spectralChangeDb
            && a.lagQ8 == b.lagQ8 && a.dipQ == b.dipQ
            && a.hopMeanSquare == b.hopMeanSquare && a.hopEnvelopePeak == b.hopEnvelopePeak
    }

    /// Candidates kept per frame.
    public static let candidateCount = 4

    /// Lag of candidate `c`, samples at the analysis rate; 0 when there is none.
    @inline(__always) public func lag(_ c: Int) -> Float { Float(lagQ8(at: c)) / 256 }

    /// Candidate `c`'s lag code (a tuple, not a SIMD4, whose 8-byte alignment would make
    /// every frame 56 bytes where 52 hold it).
    @inline(__always) public func lagQ8(at c: Int) -> UInt16 {
        withUnsafeBytes(of: lagQ8) { $0.load(fromByteOffset: 2 * c, as: UInt16.self) }
    }

    /// YIN dip of candidate `c` (1.59 when there is none).
    @inline(__always) public func dip(_ c: Int) -> Float { Float(dipQ[c]) / FrameFeatures.dipScale }

    @inline(__always) mutating func setCandidate(_ c: Int, lag: Float, dip: Float) {
        let l: UInt16 = lag > 0 ? UInt16(min(65535, (lag * 256).rounded())) : 0
        let d = UInt8(min(255, max(0, ((lag > 0 ? dip : 1) * FrameFeatures.dipScale).rounded())))
        withUnsafeMutableBytes(of: &lagQ8) { $0.storeBytes(of: l, toByteOffset: 2 * c, as: UInt16.self) }
        dipQ[c] = d
    }

    /// Band `b`'s energy, dBov.
    @inline(__always) public func bandDb(_ b: Int) -> Float {
        switch b {
        case 0: return band0Db
        case 1: return band1Db
        case 2: return band2Db
        default: return band3Db
        }
    }
}

/// A fixed-size ring of values indexed by absolute frame number: the last `capacity`
/// frames a stream has produced. Stages keep what they look back at here, so their memory
/// does not grow with the call.
///
/// The values live in one buffer made at `init`, reached through a pointer kept in the ring
/// itself: an append or a read touches only the value's own memory. (An array's storage
/// cost a uniqueness check on its header at every append and a retain at many reads, and
/// with a thousand live calls on a core each header was a cache miss.) A copy of a ring
/// shares its buffer: a stage owns its rings and hands them to others only to read.
///
/// - Complexity: O(1) to append and to read; no allocation after `init`.
@frozen public struct FrameRing<Element>: @unchecked Sendable {
    /// Owns the buffer: frees it when the last ring sharing it goes.
    @usableFromInline final class Buffer {
        @usableFromInline let base: UnsafeMutablePointer<Element>
        @usableFromInline let size: Int
        @usableFromInline init(size: Int, filler: Element) {
            self.size = size
            base = .allocate(capacity: size)
            base.initialize(repeating: filler, count: size)
        }
        deinit {
            base.deinitialize(count: size)
            base.deallocate()
        }
    }
    // Inlinable: rings of the later stages' own types are specialised where they are used.
    @usableFromInline let buffer: Buffer
    @usableFromInline let base: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    @usableFromInline var appended = 0
    /// Frames appended so far: valid indices are `max(0, count - capacity)..<count`.
    @inlinable public var count: Int { appended }

    /// - Parameter capacity: rounded up to a power of two.
    @inlinable public init(capacity: Int, filler: Element) {
        var size = 1
        while size < capacity { size <<= 1 }
        buffer = Buffer(size: size, filler: filler)
        base = buffer.base
        mask = size - 1
    }

    @inlinable public var capacity: Int { mask + 1 }
    /// The oldest index still held.
    @inlinable public var oldest: Int { max(0, count - capacity) }

    @inlinable @inline(__always) public mutating func append(_ value: Element) {
        base[appended & mask] = value
        appended += 1
    }

    /// The value of frame `index`, which must be within the last `capacity` frames.
    @inlinable @inline(__always) public subscript(index: Int) -> Element {
        get {
            precondition(index >= oldest && index < count, "frame \(index) is outside the ring (\(oldest)..<\(count))")
            return base[index & mask]
        }
        nonmutating set {
            precondition(index >= oldest && index < count, "frame \(index) is outside the ring (\(oldest)..<\(count))")
            base[index & mask] = newValue
        }
    }

    /// Whether `index` is held.
    @inlinable @inline(__always) public func holds(_ index: Int) -> Bool { index >= oldest && index < count }
}

/// A fixed number of values behind a pointer of their own, for a stage's working memory that
/// it writes at every frame (dynamic-programming costs, back-pointers): a write is a store,
/// where an array's first checked that its storage was not shared, a load of its header that
/// with a thousand live calls on a core was a cache miss each time. Like `FrameRing`, a copy
/// shares the values: a stage owns its buffers.
@frozen public struct FixedBuffer<Element>: @unchecked Sendable {
    @usableFromInline let storage: FrameRing<Element>.Buffer
    @usableFromInline let base: UnsafeMutablePointer<Element>
    public let count: Int

    @inlinable public init(count: Int, filler: Element) {
        storage = FrameRing<Element>.Buffer(size: Swift.max(1, count), filler: filler)
        base = storage.base
        self.count = count
    }

    /// The first value: for code that reads or writes the buffer as a whole.
    @inlinable public var pointer: UnsafeMutablePointer<Element> { base }

    @inlinable @inline(__always) public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "index \(index) is outside the buffer (0..<\(count))")
            return base[index]
        }
        nonmutating set {
            precondition(index >= 0 && index < count, "index \(index) is outside the buffer (0..<\(count))")
            base[index] = newValue
        }
    }
}

/// Read as a collection (`min()`, `for x in`), as the arrays it replaces were.
extension FixedBuffer: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
}
