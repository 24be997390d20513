using System.Numerics;

namespace Parley.Load;

/// <summary>
/// Histogram counts values (nanoseconds) in log-linear buckets, like HdrHistogram: exact below
/// 256, then 128 buckets per power of two, so every percentile is within 0.8% of the truth. It
/// records in O(1) with no allocation; each loop keeps its own and they are merged at the end.
/// </summary>
internal sealed class Histogram
{
    private const int SubBits = 8;
    private const int Linear = 1 << SubBits;
    private const int Half = Linear / 2;
    private readonly long[] _counts = new long[Linear + (64 * Half)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }
        _counts[Index(value)]++;
        Count++;
        Sum += value;
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Count = 0;
        Max = 0;
        Sum = 0;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Percentile is the value at or below which <paramref name="p"/> (0..100) percent of the values lie.</summary>
    public long Percentile(double p)
    {
        if (Count == 0)
        {
            return 0;
        }
        var target = Math.Max(1, (long)Math.Ceiling(p / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(Value(i), Max);
            }
        }
        return Max;
    }

    private static int Index(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - (SubBits - 1);
        return Linear + ((shift - 1) * Half) + (int)((value >> shift) - Half);
    }

    // Value is the middle of bucket i.
    private static long Value(int index)
    {
        if (index < Linear)
        {
            return index;
        }
        var shift = ((index - Linear) / Half) + 1;
        var sub = ((index - Linear) % Half) + Half;
        return ((long)sub << shift) + ((1L << shift) / 2);
    }
}
