namespace Parley.Sfu.Janus;

/// <summary>
/// JanusException: Janus answered an error, either a core error (<c>{"janus":"error","error":{code,reason}}</c>)
/// or a plugin error (<c>plugindata.data.error_code</c> and <c>error</c>). Code is Janus's number
/// (403, 458, 425, 428, 465, 437, ...).
/// </summary>
internal sealed class JanusException(int code, string reason, string request)
    : Exception($"Janus refused {request}: {code} {reason}")
{
    /// <summary>Code is Janus's error code (0 when a plugin gave an error without one).</summary>
    public int Code { get; } = code;

    /// <summary>Reason is Janus's text for the error.</summary>
    public string Reason { get; } = reason;

    /// <summary>Request names what was refused: "attach", "message:join", "trickle", ...</summary>
    public string Request { get; } = request;
}

/// <summary>JanusUnavailableException: the connection to Janus is down, or was lost while the request was outstanding.</summary>
internal sealed class JanusUnavailableException : Exception
{
    public JanusUnavailableException()
        : base("Janus is unavailable.")
    {
    }

    public JanusUnavailableException(string message)
        : base(message)
    {
    }

    public JanusUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
