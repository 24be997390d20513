using Microsoft.Playwright;
using Parley.Operations;
using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Network.Tests.Browser;

/// <summary>
/// ContentSecurityPolicyTests (issue 4): the pages work under the strict Content-Security-Policy
/// the server sends on every response. A violation shows twice in Chromium: as a
/// <c>securitypolicyviolation</c> event (recorded by probe.js) and as a console error
/// ("Refused to … because it violates the following Content Security Policy directive").
/// </summary>
public sealed class ContentSecurityPolicyTests(Chromium chromium) : IClassFixture<Chromium>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_landing_and_meeting_pages_run_a_whole_call_under_the_Content_Security_Policy_without_a_single_violation()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        // Ada starts a meeting from the landing page; Grace joins it there with the invite link,
        // after a mistyped id first (the error path renders too).
        await using var ada = await Participant.OpenAsync(chromium.Browser, server.BaseUri, "/", "Ada");
        await using var grace = await Participant.OpenAsync(chromium.Browser, server.BaseUri, "/", "Grace");
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, await ada.Opened!.HeaderValueAsync("content-security-policy"));
        Assert.Empty(await ViolationsAsync(ada));

        await ada.Page.GetByRole(AriaRole.Button, new() { Name = "New meeting" }).ClickAsync();
        await ada.Page.WaitForURLAsync("**/r/*");
        var invite = ada.Page.Url;
        var joinBox = grace.Page.GetByLabel("Join a meeting");
        await joinBox.FillAsync("Not A Meeting!");
        await grace.Page.GetByRole(AriaRole.Button, new() { Name = "Join", Exact = true }).ClickAsync();
        await Expect(grace.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That is not a valid meeting id");
        Assert.Empty(await ViolationsAsync(grace));
        await joinBox.FillAsync(invite);
        await grace.Page.GetByRole(AriaRole.Button, new() { Name = "Join", Exact = true }).ClickAsync();
        await grace.Page.WaitForURLAsync(invite);

        // The pre-join connection check, then the call itself with media both ways.
        await ada.Page.GetByRole(AriaRole.Button, new() { Name = "Check connection", Exact = true }).ClickAsync();
        await Expect(ada.Page.GetByRole(AriaRole.List, new() { Name = "Connection check results" })).ToBeVisibleAsync();
        await ada.JoinAsync(NetworkCall.JoinTimeoutMs);
        await grace.JoinAsync(NetworkCall.JoinTimeoutMs);
        await Expect(ada.TileOf("Grace")).ToHaveAttributeAsync("data-connection", "connected", new() { Timeout = 20_000 });
        await NetworkCall.WaitForMediaAsync(ada, Ct);
        await NetworkCall.WaitForMediaAsync(grace, Ct);

        foreach (var p in new[] { ada, grace })
        {
            Assert.Empty(await ViolationsAsync(p));
            Assert.Empty(CspConsoleErrors(p));
            // Every response the pages got (documents, scripts, styles, icons, the ICE check) carried the policy.
            var responses = p.Responses.Where(r => r.Url.StartsWith(server.BaseUri.ToString(), StringComparison.Ordinal)).ToArray();
            Assert.Contains(responses, r => r.Url.EndsWith(".js", StringComparison.Ordinal));
            Assert.Contains(responses, r => r.Url.EndsWith(".css", StringComparison.Ordinal));
            var without = new List<string>();
            foreach (var response in responses)
            {
                if (await response.HeaderValueAsync("content-security-policy") != SecurityHeaders.ContentSecurityPolicy)
                {
                    without.Add($"{response.Status} {response.Url}");
                }
            }
            Assert.True(without.Count == 0, $"{p.Name}: responses without the policy: {string.Join(", ", without)}");
        }

        // Control: the same page does report a violation, on both channels, when there is one.
        await ada.Page.EvaluateAsync("() => document.body.setAttribute('style', 'outline: 1px solid red')");
        await WaitForAsync(async () => (await ViolationsAsync(ada)).Any(v => v.StartsWith("style-src-attr", StringComparison.Ordinal))
            && CspConsoleErrors(ada).Any(), "the deliberate inline style was not reported as a violation");
    }

    private static Task<string[]> ViolationsAsync(Participant p) => p.ProbeAsync<string[]>("cspViolations()");

    private static IEnumerable<string> CspConsoleErrors(Participant p) =>
        p.ConsoleMessages.Where(m => m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)).Select(m => m.Text);

    private static async Task WaitForAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} within 5 s.");
            }
            await Task.Delay(100, Ct);
        }
    }
}
