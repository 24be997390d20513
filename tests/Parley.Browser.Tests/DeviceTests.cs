using static Microsoft.Playwright.Assertions;

namespace Parley.Browser.Tests;

/// <summary>DeviceTests: people without a camera or microphone can still take part.</summary>
public sealed class DeviceTests(Chromium chromium)
{
    [Fact]
    public async Task A_participant_without_camera_or_microphone_is_told_why_joins_receive_only_and_still_receives_the_others()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        var noDevices = await chromium.LaunchAsync(fakeDevices: false);
        try
        {
            var room = TestRooms.New();
            await using var ada = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, room, "Ada");
            await using var viewer = await Participant.OpenRoomAsync(noDevices, server.BaseUri, room, "Viewer");
            await ada.JoinAsync();

            var notice = viewer.Page.Locator("#media-notice");
            await Expect(notice).ToBeVisibleAsync(new() { Timeout = 10_000 });
            await Expect(notice).ToContainTextAsync("No camera");
            await Expect(notice).ToContainTextAsync("You can still join to watch and listen");
            await viewer.JoinAsync();

            await Expect(viewer.Button("Camera")).ToHaveAttributeAsync("aria-pressed", "false");
            await Expect(viewer.TileOf("Ada")).ToBeVisibleAsync();
            await Expect(ada.TileOf("Viewer")).ToHaveAttributeAsync("data-video", "off");
            await MediaFlow.WaitForFlowAsync(viewer, connections: 1, ct);
        }
        finally
        {
            await noDevices.CloseAsync();
        }
    }

    [Fact]
    public async Task A_remembered_camera_and_microphone_that_are_gone_fall_back_to_the_default_ones()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ParleyTestServer.StartAsync(null, ct);
        const string StaleDevices =
            "localStorage.setItem('parley.videoDevice', 'unplugged-camera'); localStorage.setItem('parley.audioDevice', 'unplugged-mic');";
        await using var ada = await Participant.OpenRoomAsync(chromium.Browser, server.BaseUri, TestRooms.New(), "Ada", StaleDevices);

        await Expect(ada.Page.Locator("#prejoin .preview")).ToHaveAttributeAsync("data-video", "on");
        await Expect(ada.Button("Microphone")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(ada.Page.Locator("#media-notice")).ToBeHiddenAsync();
        await Expect(ada.Page.Locator("#cam-select")).ToBeEnabledAsync();
    }
}
