using System.Diagnostics.Metrics;
using Parley.Operations;
using Parley.Rooms;

namespace Parley.Signaling;

/// <summary>
/// SignalingMetrics are the signaling's instruments on the <c>Parley</c> meter, exported in the
/// Prometheus format at <c>/metrics</c>. Counters are cheap enough for the relay's hot path.
/// </summary>
internal sealed class SignalingMetrics
{

    private readonly Counter<long> _joins;
    private readonly Counter<long> _resumes;
    private readonly Histogram<double> _joinDuration;
    private readonly Counter<long> _relayed;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;

    public SignalingMetrics(IMeterFactory meters, ConnectionTracker connections, IRoomRouter router)
    {
        var meter = meters.Create(OperationsEndpoints.MeterName);
        meter.CreateObservableUpDownCounter("parley.connections", () => connections.Count, "{connection}", "Open signaling WebSocket connections.");
        meter.CreateObservableUpDownCounter("parley.rooms", () => (Measurement<int>[])
            [
                new(router.CountRooms(RoomMode.Mesh), new KeyValuePair<string, object?>("mode", "mesh")),
                new(router.CountRooms(RoomMode.Sfu), new KeyValuePair<string, object?>("mode", "sfu")),
            ], "{room}", "Rooms with at least one participant, by mode.");
        meter.CreateObservableUpDownCounter("parley.participants", () => router.ParticipantCount, "{participant}", "Participants in all rooms.");
        _joins = meter.CreateCounter<long>("parley.joins", "{join}", "Successful joins.");
        _resumes = meter.CreateCounter<long>("parley.resumes", "{resume}", "Stays carried on by a new connection after a lost one.");
        _joinDuration = meter.CreateHistogram<double>("parley.join.duration", "s", "Time from the WebSocket upgrade to the joined message.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _relayed = meter.CreateCounter<long>("parley.messages.relayed", "{message}", "Messages relayed to another participant, by type.");
        _errors = meter.CreateCounter<long>("parley.errors", "{error}", "Error messages sent to clients, by code.");
        _rateLimited = meter.CreateCounter<long>("parley.rate_limited", "{message}", "Messages dropped by the per-connection rate limit.");
        _bytesReceived = meter.CreateCounter<long>("parley.bytes.received", "By", "Signaling bytes received from clients.");
        _bytesSent = meter.CreateCounter<long>("parley.bytes.sent", "By", "Signaling bytes sent to clients.");
    }

    public void Joined(TimeSpan sinceUpgrade)
    {
        _joins.Add(1);
        _joinDuration.Record(sinceUpgrade.TotalSeconds);
    }

    public void Resumed() => _resumes.Add(1);

    public void Relayed(string type) => _relayed.Add(1, new KeyValuePair<string, object?>("type", type));

    public void Error(string code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code));

    public void RateLimited() => _rateLimited.Add(1);

    public void Received(int bytes) => _bytesReceived.Add(bytes);

    public void Sent(int bytes) => _bytesSent.Add(bytes);
}
