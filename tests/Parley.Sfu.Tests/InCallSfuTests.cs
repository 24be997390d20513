using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Sfu.Tests;

/// <summary>
/// InCallSfuTests: the call's features work the same through the media server as in a mesh, and
/// what people said and did before the room moved there is still there after it moved.
/// </summary>
public sealed class InCallSfuTests(Chromium chromium)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Chat_hands_the_speaking_ring_and_quality_survive_the_switch_up_and_work_through_the_media_server()
    {
        await using var call = await SfuCall.StartAsync("in-call", meshMax: 2, Ct);
        var ada = await call.JoinAsync(chromium.Browser, "Ada");
        var grace = await call.JoinAsync(chromium.Browser, "Grace");
        await SfuCall.ExpectMode(ada).ToHaveAttributeAsync("data-mode", "mesh");

        // In the mesh: Ada writes, Grace raises her hand and mutes, so only Ada makes a sound.
        await ada.SendChatAsync("Said in the mesh");
        await grace.Page.Keyboard.PressAsync("h");
        await grace.Page.Keyboard.PressAsync("m");
        await Expect(ada.TileOf("Grace").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");

        // Alan's join moves the room to the media server.
        var alan = await call.JoinAsync(chromium.Browser, "Alan");
        Participant[] all = [ada, grace, alan];
        foreach (var p in all)
        {
            await SfuCall.ExpectMode(p).ToHaveAttributeAsync("data-mode", "sfu", new() { Timeout = 20_000 });
        }
        await SfuCall.WaitForEveryoneAsync(all, Ct, maxConnections: 2);

        // What came before the move is still there, for the newcomer too.
        await alan.Button("Chat").ClickAsync();
        await Expect(alan.ChatMessages.Locator(".chat-text")).ToHaveTextAsync(["Said in the mesh"]);
        await Expect(alan.TileOf("Grace").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");
        await Expect(ada.TileOf("Grace").Locator(".tile-hand")).ToHaveTextAsync("✋ 1");

        // Through the media server: chat, the speaking ring on the one who is loud, and quality.
        await grace.SendChatAsync("Said through the media server");
        await Expect(ada.ChatMessages.Last.Locator(".chat-text")).ToHaveTextAsync("Said through the media server");
        await Expect(alan.ChatMessages.Last.Locator(".chat-text")).ToHaveTextAsync("Said through the media server");
        await Expect(alan.TileOf("Ada")).ToHaveAttributeAsync("data-speaking", "true", new() { Timeout = 15_000 });
        await Expect(alan.TileOf("Grace")).Not.ToHaveAttributeAsync("data-speaking", "true");
        await Expect(alan.TileOf("Ada")).ToHaveAttributeAsync("data-quality", new System.Text.RegularExpressions.Regex("^(good|fair)$"), new() { Timeout = 15_000 });
        await alan.TileOf("Ada").Locator(".tile-quality summary").ClickAsync();
        await Expect(alan.TileOf("Ada").Locator(".quality-lines li").Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^Video: \d+×\d+") }))
            .ToHaveCountAsync(1);
    }
}
