namespace Parley.Load;

/// <summary>Smoke checks that each short scenario worked: no failures, messages relayed in order, everyone back after the storm. No timing is asserted.</summary>
internal static class Smoke
{
    public static bool Check(IReadOnlyList<Report> reports, IReadOnlyList<TargetSpec> targets, Progress progress)
    {
        var problems = new List<string>();
        var relay = reports[0];
        var latency = reports[1];
        var joins = reports[3];
        foreach (var t in targets)
        {
            var n = t.Name;
            if (!(relay.Get(n, "rate") > 0))
            {
                problems.Add($"[{n}] relay: nothing relayed");
            }
            if (relay.Get(n, "out_of_order") is not 0)
            {
                problems.Add($"[{n}] relay: messages lost or out of order");
            }
            if (!(latency.Get(n, "r1000_rate") > 0))
            {
                problems.Add($"[{n}] latency: nothing relayed");
            }
            if (latency.Get(n, "r1000_out_of_order") is not 0)
            {
                problems.Add($"[{n}] latency: messages lost or out of order");
            }
            if (reports[2].Get(n, "connections") is not 200)
            {
                problems.Add($"[{n}] density: not all 200 connections held");
            }
            if (joins.Get(n, "storm_all_back") is not > 0)
            {
                problems.Add($"[{n}] joins: not all clients rejoined after the storm");
            }
        }
        foreach (var report in reports)
        {
            foreach (var failure in report.Failures())
            {
                problems.Add($"{report.Scenario}: {failure}");
            }
        }
        foreach (var problem in problems)
        {
            progress.Say("SMOKE FAILED: " + problem);
        }
        progress.Say(problems.Count == 0 ? "smoke: all scenarios worked" : $"smoke: {problems.Count} problem(s)");
        return problems.Count == 0;
    }
}
