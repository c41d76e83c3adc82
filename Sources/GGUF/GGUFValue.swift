/// A GGUF metadata value. Arrays hold values of one type each (the file stores the element type
/// once per array); nested arrays may each have their own element type.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32),
         uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String),
         array([GGUFValue])

    /// Any integer case as `Int` (nil for floats, bools, strings, arrays, and a uint64 above Int.max).
    public var int: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        default: nil
        }
    }

    /// Any numeric case (integer or float) as `Double`.
    public var double: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        case let .uint64(v): Double(v)
        case let .int64(v): Double(v)
        default: int.map(Double.init)
        }
    }

    public var bool: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    public var string: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    public var array: [GGUFValue]? {
        if case let .array(v) = self { return v }
        return nil
    }

    /// The array as strings; nil unless every element is a string.
    public var stringArray: [String]? {
        guard let items = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case let .string(s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// The array as integers; nil unless every element is an integer case that fits `Int`.
    public var intArray: [Int]? {
        guard let items = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.int else { return nil }
            out.append(v)
        }
        return out
    }

    /// The array as `Float`s; nil unless every element is numeric. float32 elements are exact.
    public var floatArray: [Float]? {
        guard let items = array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            if case let .float32(v) = item { out.append(v); continue }
            guard let v = item.double else { return nil }
            out.append(Float(v))
        }
        return out
    }

    /// The GGUF type id of this value (`gguf_type` in ggml).
    public var typeID: UInt32 { valueType.rawValue }

    var valueType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }
}

/// The on-disk type ids of metadata values (`gguf_type`).
enum GGUFValueType: UInt32 {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
         bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type occupies: its size for scalars, the uint64 length
    /// for a string, the element type + count for an array. Used to reject absurd counts early.
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}
