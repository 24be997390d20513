namespace Parley.Server.Tests; public class T { [Xunit.Fact] public void A() { } }
