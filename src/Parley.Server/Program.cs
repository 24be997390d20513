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
await app.RunAsync();
return 0;
