using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>LandingTests: the start page makes meetings and finds them.</summary>
public sealed partial class LandingTests(Chromium chromium)
{
    [GeneratedRegex(@"/r/([a-z]+-[a-z]+-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})$")]
    private static partial Regex NewRoomUrl();

    [Fact]
    public async Task New_meeting_makes_a_fresh_valid_room_id_and_opens_its_page()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        await using var ada = await Participant.OpenAsync(chromium.Browser, server.BaseUri, "/", "Ada");

        var ids = new HashSet<string>();
        for (var i = 0; i < 2; i++)
        {
            await ada.Page.GotoAsync("/");
            await ada.Button("New meeting").ClickAsync();
            await ada.Page.WaitForURLAsync(NewRoomUrl());
            await Expect(ada.Page.GetByRole(AriaRole.Heading, new() { Name = "Ready to join?" })).ToBeVisibleAsync();
            var id = NewRoomUrl().Match(ada.Page.Url).Groups[1].Value;
            Assert.InRange(id.Length, 1, 64);
            Assert.True(ids.Add(id), $"New meeting made {id} twice.");
        }
    }

    [Fact]
    public async Task Joining_by_pasted_link_or_id_normalizes_it_and_an_invalid_id_shows_an_error()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        await using var ada = await Participant.OpenAsync(chromium.Browser, server.BaseUri, "/", "Ada");
        var field = ada.Page.GetByLabel("Join a meeting");

        await field.FillAsync("not a room!");
        await field.PressAsync("Enter");
        await Expect(ada.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not a valid meeting id");
        await Expect(field).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.EndsWith("/", ada.Page.Url, StringComparison.Ordinal);

        await field.FillAsync($"  {server.BaseUri}r/Calm-Otter-K7MQ?from=mail  ");
        await ada.Button("Join").ClickAsync();
        await ada.Page.WaitForURLAsync(new Regex("/r/calm-otter-k7mq$"));

        await ada.Page.GotoAsync("/");
        await ada.Page.GetByLabel("Join a meeting").FillAsync(" Quiet-Heron-42 ");
        await ada.Page.GetByLabel("Join a meeting").PressAsync("Enter");
        await ada.Page.WaitForURLAsync(new Regex("/r/quiet-heron-42$"));
    }
}
