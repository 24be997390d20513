using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// FlakyNetworkTests: a subscriber whose network loses packets gets its video a layer down, and
/// back up once the loss ends. That browser sits in a namespace of its own, routed through the
/// test's namespace to Janus, so an nftables rule there drops its UDP alone.
/// <code>
///   flaky ns 10.232.0.2 ── 10.232.0.1 test ns (Parley, other browsers) 10.231.n.1 ── 10.231.n.2 Janus ns
/// </code>
/// </summary>
public sealed class FlakyNetworkTests(Chromium chromium)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly IPAddress Gateway = IPAddress.Parse("10.232.0.1");

    [Fact]
    public async Task Loss_on_one_subscribers_network_steps_its_video_down_a_layer_and_back_up_when_it_ends()
    {
        var ns = $"parley-flaky-{Environment.ProcessId}";
        var link = $"pf{Environment.ProcessId % 100_000}";
        var directory = Directory.CreateTempSubdirectory("parley-flaky-");
        await using var janus = await JanusServer.StartAsync("flaky", Ct);
        var forwarding = (await File.ReadAllTextAsync("/proc/sys/net/ipv4/ip_forward", Ct)).Trim();
        IBrowser? flakyBrowser = null;
        try
        {
            if (File.Exists($"/run/netns/{ns}"))
            {
                // Left by a crashed run of this process id.
                await Commands.RunAsync(Ct, "ip", "netns", "del", ns);
            }
            await Commands.RunAsync(Ct, "ip", "netns", "add", ns);
            await Commands.RunAsync(Ct, "ip", "-n", ns, "link", "set", "lo", "up");
            await Commands.RunAsync(Ct, "ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns);
            await Commands.RunAsync(Ct, "ip", "addr", "add", $"{Gateway}/30", "dev", link);
            await Commands.RunAsync(Ct, "ip", "link", "set", link, "up");
            await Commands.RunAsync(Ct, "ip", "-n", ns, "addr", "add", "10.232.0.2/30", "dev", "eth0");
            await Commands.RunAsync(Ct, "ip", "-n", ns, "link", "set", "eth0", "up");
            await Commands.RunAsync(Ct, "ip", "-n", ns, "route", "add", "default", "via", Gateway.ToString());
            await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1", Ct);
            await janus.RunInNamespaceAsync(Ct, "ip", "route", "add", "10.232.0.0/30", "via", janus.HostAddress.ToString());

            await using var parley = await ParleyTestServer.StartAsync(new Dictionary<string, string?>(janus.ParleySettings) { ["Parley:Sfu:MeshMax"] = "1" },
                b => b.WebHost.UseUrls("http://127.0.0.1:0", $"http://{Gateway}:0"), Ct);
            // The others are on loopback (a secure origin for their cameras); the flaky browser reaches Parley through its gateway.
            var routed = new Uri(parley.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                .Single(a => a.Contains(Gateway.ToString(), StringComparison.Ordinal)).TrimEnd('/') + "/");
            var room = TestRooms.New();
            // Publishers with the product's camera size (640x360): two simulcast layers.
            await using var ada = await Participant.OpenRoomAsync(chromium.Browser, parley.BaseUri, room, "Ada");
            await ada.JoinAsync();
            await using var grace = await Participant.OpenRoomAsync(chromium.Browser, parley.BaseUri, room, "Grace");
            await grace.JoinAsync();
            flakyBrowser = await chromium.LaunchInNamespaceAsync(ns, routed, Path.Combine(directory.FullName, "chromium"), Ct);
            await using var flaky = await Participant.OpenRoomAsync(flakyBrowser, routed, room, "Flaky");
            await flaky.JoinAsync();
            await flaky.Page.SetViewportSizeAsync(1280, 720);
            await TileFlow.WaitForAllAsync(flaky, ["Ada", "Grace"], Ct);
            await WaitForWidthAsync(flaky, 640, "before the loss");

            // 25% of what reaches the flaky browser over UDP is lost.
            await Commands.RunAsync(Ct, "ip", "netns", "exec", ns, "nft", "add table inet flaky");
            await Commands.RunAsync(Ct, "ip", "netns", "exec", ns, "nft", "add chain inet flaky in { type filter hook input priority 0 ; policy accept ; }");
            await Commands.RunAsync(Ct, "ip", "netns", "exec", ns, "nft", "add rule inet flaky in meta l4proto udp numgen random mod 100 < 25 drop");
            await WaitForWidthAsync(flaky, 320, "during the loss");

            await Commands.RunAsync(Ct, "ip", "netns", "exec", ns, "nft", "delete table inet flaky");
            await WaitForWidthAsync(flaky, 640, "after the loss", TimeSpan.FromSeconds(60));
            // The other subscribers never stepped down.
            await WaitForWidthAsync(ada, 640, "on a good network");
        }
        finally
        {
            if (flakyBrowser is not null)
            {
                await flakyBrowser.CloseAsync();
            }
            await Commands.TryRunAsync(Commands.ToTestOutput, "ip", "link", "del", link);
            await Commands.TryRunAsync(Commands.ToTestOutput, "ip", "netns", "del", ns);
            await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", forwarding, CancellationToken.None);
            directory.Delete(recursive: true);
        }
    }

    // WaitForWidthAsync waits until every remote tile of the page receives video of that width.
    private static async Task WaitForWidthAsync(Participant p, double width, string when, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var tiles = await TileFlow.ReadAsync(p);
            if (tiles.Count > 0 && tiles.All(t => t.FrameWidth == width))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline,
                $"{p.Name} {when}: remote video is {string.Join(", ", tiles.Select(t => $"{t.Name} {t.FrameWidth}"))} wide, not {width}.");
            await Task.Delay(500, Ct);
        }
    }
}
