[assembly: AssemblyFixture(typeof(Parley.Testing.Chromium))]
