using Parley;

var builder = WebApplication.CreateBuilder(args);
builder.AddParley();

var app = builder.Build();
app.MapParley();
app.Run();
