using Parley.Rooms;

namespace Parley.Signaling;

/// <summary>
/// ResumeStream is a participant's outbox across connections: the room sends to it, and it
/// passes each frame to the participant's connection of the moment, numbering them (the
/// <c>joined</c> is 1) and keeping those the client has not yet said it has (<c>ping.seen</c>).
/// When the connection is lost the frames are kept, in order, until a new connection resumes with
/// the number of the last frame the client got: it gets the rest, in order, each once. Kept frames
/// are bounded in count and bytes (the oldest go first); a resume that would need a frame no
/// longer kept fails, and the client joins afresh. Send never blocks: it runs under a room's lock.
/// </summary>
internal sealed class ResumeStream(IConnection connection, int maxFrames, int maxBytes) : IPeerOutbox
{
    private readonly Lock _gate = new();
    // _kept holds the frames the client has not acknowledged, oldest first: numbers _sent - Count + 1 to _sent.
    private readonly Queue<ReadOnlyMemory<byte>> _kept = new();
    private int _keptBytes;
    private long _sent;
    private IConnection? _connection = connection;

    /// <summary>Sent is the number of frames sent so far (the number of the last one).</summary>
    public long Sent
    {
        get
        {
            lock (_gate)
            {
                return _sent;
            }
        }
    }

    /// <summary>Kept is the number of frames held for a resume.</summary>
    public int Kept
    {
        get
        {
            lock (_gate)
            {
                return _kept.Count;
            }
        }
    }

    public void Send(ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            _sent++;
            _kept.Enqueue(frame);
            _keptBytes += frame.Length;
            while (_kept.Count > maxFrames || _keptBytes > maxBytes)
            {
                _keptBytes -= _kept.Dequeue().Length;
            }
            // Under the lock, so a resume's replay and later frames keep their order.
            _connection?.Send(frame);
        }
    }

    /// <summary>Acknowledge forgets the frames up to number <paramref name="seen"/>, which the client says it has.</summary>
    public void Acknowledge(long seen)
    {
        lock (_gate)
        {
            var first = _sent - _kept.Count + 1;
            for (var n = Math.Min(seen, _sent) - first + 1; n > 0; n--)
            {
                _keptBytes -= _kept.Dequeue().Length;
            }
        }
    }

    /// <summary>Detach stops sending to <paramref name="lost"/>, if it is still the connection; frames are kept from now on.</summary>
    public void Detach(IConnection lost)
    {
        lock (_gate)
        {
            if (_connection == lost)
            {
                _connection = null;
            }
        }
    }

    /// <summary>
    /// Attach makes <paramref name="next"/> the connection: it gets <paramref name="resumed"/>, then
    /// every frame after number <paramref name="seen"/>, then what comes later. False, and nothing
    /// sent, when the client claims a frame never sent or needs one no longer kept.
    /// </summary>
    public bool Attach(IConnection next, long seen, ReadOnlyMemory<byte> resumed)
    {
        lock (_gate)
        {
            var first = _sent - _kept.Count + 1;
            if (seen < first - 1 || seen > _sent)
            {
                return false;
            }
            _connection = next;
            next.Send(resumed);
            var skip = seen - first + 1;
            foreach (var frame in _kept)
            {
                if (skip-- <= 0)
                {
                    next.Send(frame);
                }
            }
            return true;
        }
    }
}
