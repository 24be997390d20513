using System.Diagnostics.Metrics;
using Parley.Operations;
using Parley.Sfu.Janus;

namespace Parley.Sfu;

/// <summary>
/// SfuMetrics are the SFU's instruments on the <c>Parley</c> meter: Janus up or down, its
/// request latency and errors by code, and the publishers and subscriptions in use.
/// </summary>
internal sealed class SfuMetrics : IJanusObserver
{
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _requestErrors;
    private readonly Counter<long> _switches;
    private readonly Histogram<double> _switchDuration;

    public SfuMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(OperationsEndpoints.MeterName);
        _requestDuration = meter.CreateHistogram<double>("parley.janus.request.duration", "s", "Time Janus took to answer a request, by request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _requestErrors = meter.CreateCounter<long>("parley.janus.request.errors", "{error}", "Janus requests that failed, by request and error code (408: timed out, 503: connection lost).");
        _switches = meter.CreateCounter<long>("parley.switches", "{switch}", "Switches between mesh and SFU, by direction (up: to the SFU) and outcome (complete, partial, failed, superseded).");
        _switchDuration = meter.CreateHistogram<double>("parley.switch.duration", "s", "Time from a room's mode change until its switch was over, by direction.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15] });
        meter.CreateObservableGauge("parley.janus.up", () => Up?.Invoke() == true ? 1 : 0, "{boolean}", "1 while Parley is connected to Janus, else 0.");
        meter.CreateObservableUpDownCounter("parley.sfu.publishers", () => Publishers?.Invoke() ?? 0, "{publisher}", "Participants publishing media to the SFU.");
        meter.CreateObservableUpDownCounter("parley.sfu.layers", () =>
        {
            var (high, low, off) = Layers?.Invoke() ?? default;
            return (Measurement<int>[])
            [
                new(high, new KeyValuePair<string, object?>("layer", "high")),
                new(low, new KeyValuePair<string, object?>("layer", "low")),
                new(off, new KeyValuePair<string, object?>("layer", "off")),
            ];
        }, "{stream}", "Video streams subscribers receive, by simulcast layer (off: paused).");
        meter.CreateObservableUpDownCounter("parley.sfu.subscriptions", () => Subscriptions?.Invoke() ?? 0, "{subscription}", "Publishers received through the SFU, summed over subscribers.");
    }

    /// <summary>Up, Publishers and Subscriptions are read at each scrape; the SFU sets them once it exists.</summary>
    public Func<bool>? Up { get; set; }

    public Func<int>? Publishers { get; set; }

    public Func<int>? Subscriptions { get; set; }

    public Func<(int High, int Low, int Off)>? Layers { get; set; }

    public void Switched(Rooms.RoomMode to, string outcome, TimeSpan took)
    {
        var direction = new KeyValuePair<string, object?>("direction", to == Rooms.RoomMode.Sfu ? "up" : "down");
        _switches.Add(1, direction, new KeyValuePair<string, object?>("outcome", outcome));
        _switchDuration.Record(took.TotalSeconds, direction);
    }

    public void RequestCompleted(string request, TimeSpan elapsed, int? errorCode)
    {
        var tag = new KeyValuePair<string, object?>("request", request);
        _requestDuration.Record(elapsed.TotalSeconds, tag);
        if (errorCode is { } code)
        {
            _requestErrors.Add(1, tag, new KeyValuePair<string, object?>("code", code));
        }
    }
}
