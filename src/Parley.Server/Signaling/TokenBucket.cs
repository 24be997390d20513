namespace Parley.Signaling;

/// <summary>
/// TokenBucket limits one connection's message rate. It refills lazily from timestamps, so an
/// idle connection costs two numbers and no timer (TokenBucketRateLimiter from
/// System.Threading.RateLimiting needs a timer, or a replenisher, per instance).
/// </summary>
internal struct TokenBucket(TimeProvider time, double ratePerSecond, int burst)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    /// <summary>TryTake spends one token, if there is one.</summary>
    public bool TryTake()
    {
        var now = time.GetTimestamp();
        var elapsed = (double)(now - _last) / time.TimestampFrequency;
        _last = now;
        _tokens = Math.Min(burst, _tokens + (elapsed * ratePerSecond));
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }
}
