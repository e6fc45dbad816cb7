import Foundation

/// A query's rows as typed values: a `Decodable` struct whose coding keys are the query's
/// column names (`call_date`, `agent_speech_rate_cpm`), each property of the type the
/// column holds. Both engines' rows arrive as `SQLRow`, so one row type serves SQLite and
/// PostgreSQL and every query stays written once.
///
/// Values convert as `SQLRow.int`/`double`/`string` read them (PostgreSQL hands a `numeric`
/// sum as text, SQLite a whole-number average as an integer); a Bool is a column of 0 or 1.
/// A column that is missing or NULL is nil for an optional property and an error for
/// any other, naming the column.
public struct SQLRowDecoder {
    public init() {}

    public func decode<Row: Decodable>(_ type: Row.Type, from row: SQLRow) throws -> Row {
        try Row(from: RowDecoder(row: row))
    }
}

extension ResultsStore {
    /// Runs one query (see `fetch(_:_:)`) and decodes each row as `Row`.
    public func fetch<Row: Decodable>(_ type: Row.Type, _ sql: String, _ values: [SQLValue]) throws -> [Row] {
        let decoder = SQLRowDecoder()
        return try fetch(sql, values).map { try decoder.decode(Row.self, from: $0) }
    }
}

private struct RowDecoder: Decoder {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Columns<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [Any].self, .init(codingPath: [], debugDescription: "a row decodes into a struct of its columns"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(
            Any.self, .init(codingPath: [], debugDescription: "a row decodes into a struct of its columns"))
    }
}

private struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { row.columns.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { row.columns.contains(key.stringValue) }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = row[key.stringValue] { return true }
        return false
    }

    /// The column's value read by `read`, or an error naming the column.
    private func value<T>(_ key: Key, _ read: (String) -> T?) throws -> T {
        if let v = read(key.stringValue) { return v }
        let context = DecodingError.Context(
            codingPath: [key],
            debugDescription: contains(key)
                ? "column \(key.stringValue) is NULL or not a \(T.self)" : "no column \(key.stringValue)")
        throw contains(key) ? DecodingError.valueNotFound(T.self, context) : DecodingError.keyNotFound(key, context)
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(key, row.string) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(key, row.double) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try value(key, row.double)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(key, row.int) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { Int64(try value(key, row.int)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(key, row.int) != 0 }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        throw DecodingError.typeMismatch(
            T.self,
            .init(codingPath: [key], debugDescription: "column \(key.stringValue): a column is a number or text"))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DecodingError.typeMismatch(
            [String: Any].self, .init(codingPath: [key], debugDescription: "a column holds no nested row"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [Any].self, .init(codingPath: [key], debugDescription: "a column holds no list"))
    }

    func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }
}
