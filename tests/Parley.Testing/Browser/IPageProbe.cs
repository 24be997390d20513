namespace Parley.Testing;

/// <summary>
/// IPageProbe is a test page in any browser (Chromium through Playwright, Firefox through
/// <see cref="Firefox"/>'s driver) with probe.js in it: what the media checks need to read it.
/// </summary>
public interface IPageProbe
{
    /// <summary>Name is the participant's name, as the other pages' tiles show it.</summary>
    string Name { get; }

    /// <summary>EvaluateAsync evaluates a JavaScript expression in the page (a promise is awaited) and reads its value.</summary>
    Task<T> EvaluateAsync<T>(string expression);

    /// <summary>ProbeAsync calls <c>window.__parleyProbe.</c><paramref name="probeCall"/> in the page and reads its JSON result.</summary>
    Task<T> ProbeAsync<T>(string probeCall);
}
