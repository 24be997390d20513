using System.Globalization;
using System.Runtime.InteropServices;
using Parley.SfuBench;

const string Usage = """
Parley.SfuBench: calls through the media server. Each command starts Debian's Janus in a network
namespace of its own (linked by a veth to this one) and the published Parley server as a child
process pointed at it, and stops both, and deletes the namespace, when it ends.

Usage: Parley.SfuBench serve  [--mesh-max 4] [--ready-file FILE]     run until SIGTERM or Ctrl-C
       Parley.SfuBench switch [--mesh-max 4] [--runs 5] [--warmup-runs 1] [--json FILE]
       Parley.SfuBench gaps   [--mesh-max 4] [--switches 10] [--steady-seconds 10] [--mesh-return-delay 00:00:03] [--json FILE]
       Parley.SfuBench seven  [--parties 7] [--mesh-max 4] [--runs 1] [--settle 5] [--window 20] [--json FILE]
  common: [--server-dll artifacts/bench/server/Parley.Server.dll] [--port 18500] [--cpu N]
          [--server-log FILE] [--max-participants N] [--sfu-log-level Debug] [--mesh-return-delay hh:mm:ss]
Run it as root inside a network namespace that holds only loopback (bench/run.sh does): Janus
and the browsers send media, and nothing may leave this machine. $PARLEY_JANUS and
$PARLEY_CHROMIUM override /usr/bin/janus and /usr/bin/chromium.
""";

if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}
var options = Options.Parse(args.Skip(1));
using var stop = new CancellationTokenSource();
// SIGTERM and Ctrl-C end the run cleanly: the finally blocks stop Parley and Janus and delete the namespace.
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
try
{
    return args[0] switch
    {
        "serve" => await ServeAsync(options, stop.Token),
        "switch" => await SwitchBench.RunAsync(options, stop.Token),
        "seven" => await SevenBench.RunAsync(options, stop.Token),
        "gaps" => await GapBench.RunAsync(options, stop.Token),
        _ => Fail($"unknown command {args[0]}\n{Usage}"),
    };
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("sfubench: stopped");
    return 130;
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

// serve: Janus and Parley until a signal; prints (and writes to --ready-file) url, parley_pid, janus_pid.
static async Task<int> ServeAsync(Options options, CancellationToken cancellationToken)
{
    var meshMax = options.Int("mesh-max", 4);
    await using var world = await SfuWorld.StartAsync(options, meshMax, "sfubench-serve", cancellationToken);
    var info = string.Create(CultureInfo.InvariantCulture,
        $"url={world.Parley.BaseUri}\nparley_pid={world.Parley.ProcessId}\njanus_pid={world.JanusPid}\njanus_ws={world.Janus.WebSocketUri}\njanus_log={world.Janus.LogPath}\nserver_log={world.Parley.LogPath}\nmesh_max={meshMax}\n");
    Console.Write(info);
    if (options.Get("ready-file") is { Length: > 0 } ready)
    {
        // Written whole, then renamed: a reader never sees half of it.
        await File.WriteAllTextAsync(ready + ".tmp", info, CancellationToken.None);
        File.Move(ready + ".tmp", ready, overwrite: true);
    }
    Console.Error.WriteLine("sfubench: serving; SIGTERM or Ctrl-C stops Parley and Janus");
    try
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("sfubench: stopping Parley and Janus");
    }
    return 0;
}
