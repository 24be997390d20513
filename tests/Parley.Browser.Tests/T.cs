namespace Parley.Browser.Tests; public class T { [Xunit.Fact] public void A() { } }
