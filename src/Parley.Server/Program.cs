using Microsoft.Extensions.Options;
using Parley;
using Parley.Operations;

if (HealthCheck.IsRequested(args))
{
    return await HealthCheck.RunAsync(args, Console.Out);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddParley();

var app = builder.Build();
app.MapParley();
try
{
    await app.RunAsync();
}
catch (OptionsValidationException e)
{
    // A bad setting is the operator's to fix, not a crash: say which and exit 1 (also as a
    // container's PID 1, which would otherwise die of the runtime's abort with 139).
    await Console.Error.WriteLineAsync($"Parley cannot start: {e.Message}");
    return 1;
}
return 0;
