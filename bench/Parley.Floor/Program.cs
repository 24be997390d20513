using System.Collections.Concurrent;
using Parley.Floor;

// Parley.Floor listens on http://127.0.0.1:8001 unless told otherwise (--urls).
var builder = WebApplication.CreateSlimBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:8001");
}
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// --Floor:Backlog sets the listen backlog (Kestrel's default is 512), to show what it does to a reconnect storm.
builder.WebHost.UseSockets(o => o.Backlog = builder.Configuration.GetValue("Floor:Backlog", 512));
var app = builder.Build();
// The same keepalive as Parley's defaults, so idle connections cost the same timers.
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15), KeepAliveTimeout = TimeSpan.FromSeconds(30) });
var pairs = new ConcurrentDictionary<long, Pair>();
app.Map("/ws", context => FloorRelay.HandleAsync(context, pairs));
await app.RunAsync();
