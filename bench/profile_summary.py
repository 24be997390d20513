#!/usr/bin/env python3
"""profile_summary.py PERF_SCRIPT: summarizes `perf script -F ip,sym,dso` of the Parley server.

Async continuations nest: the read loop's continuation runs inside the completion of the socket
read below it, so the transport's own share is best read from the self time by module.

Prints, as a share of all samples: the time inclusive of each part of the hot path (a sample
counts for a part when one of the part's frames is on its stack), the top functions by self
time, and which JIT tier the sampled managed code was in (tier-1 is the steady state).
"""
import collections
import re
import sys

PARTS = [
    ("read loop (WebSocketConnection.ReadLoopAsync, all below it)", "WebSocketConnection+<ReadLoopAsync>"),
    ("  SignalingSession.Handle (validate, parse, relay)", "SignalingSession::Handle("),
    ("    Envelope.Scan (type and id pre-pass over the JSON)", "Envelope::Scan"),
    ("    TryRead: JsonSerializer.Deserialize into a record", "SignalingSession::TryRead"),
    ("    Serialize: JsonSerializer.SerializeToUtf8Bytes", "SignalingSession::Serialize"),
    ("    RelayRewriter (check and copy the relayed message)", "RelayRewriter::"),
    ("    Utf8JsonReader (any caller)", "Utf8JsonReader::"),
    ("    Relay: router, room lock, enqueue", "SignalingSession::Relay"),
    ("      WebSocketConnection.Send (channel write)", "WebSocketConnection::Send("),
    ("  OpenTelemetry counters (ParleyMetrics and Kestrel's)", "[OpenTelemetry"),
    ("  System.Threading.Channels (outbox)", "System.Threading.Channels"),
    ("  CancellationTokenSource.CancelAfter / TryReset (write deadline)", "CancellationTokenSource::"),
    ("write loop (WebSocketConnection.WriteLoopAsync, all below it)", "WebSocketConnection+<WriteLoopAsync>"),
    ("ManagedWebSocket (any frame)", "ManagedWebSocket"),
    ("kernel (any kernel frame)", "[kernel.kallsyms]"),
    ("  send path (tcp_sendmsg)", "tcp_sendmsg"),
    ("  receive path (tcp_recvmsg)", "tcp_recvmsg"),
    ("  scheduler (schedule/finish_task_switch)", "finish_task_switch"),
]
TIERS = r"\[(QuickJitted|InstrumentedTierOptimized|OptimizedTier1OSR|OptimizedTier1|Optimized|InstrumentedTier|Tier0|Tier1|PreJIT|QuickJittedOSR)\]"


def main(path):
    samples = [s for s in open(path, encoding="utf-8", errors="replace").read().split("\n\n") if s.strip()]
    total = len(samples)
    if total == 0:
        print("no samples")
        return
    inclusive = collections.Counter()
    leaves = collections.Counter()
    dsos = collections.Counter()
    tiers = collections.Counter()
    no_managed = 0
    for s in samples:
        lines = [l.strip() for l in s.strip().split("\n") if l.strip()]
        for name, pattern in PARTS:
            if pattern in s:
                inclusive[name] += 1
        leaf = lines[0]
        m = re.match(r"^\S+\s+(.*)\s+\((.*)\)$", leaf)
        sym, dso = (m.group(1), m.group(2)) if m else (leaf, "?")
        dso = "JIT-compiled code" if dso.startswith("/tmp/perf-") or "[JIT]" in dso else dso.split("/")[-1]
        dsos[dso] += 1
        t = re.search(TIERS, sym)
        if t:
            tiers[t.group(1)] += 1
        leaves[re.sub(TIERS, "", sym)[:140] + "  (" + dso + ")"] += 1
        if not re.search(r"\[(System|Microsoft|Parley|OpenTelemetry)[^\]]*\]", s):
            no_managed += 1
    print(f"{total} samples")
    print("\nInclusive time by part of the hot path:")
    for name, _ in PARTS:
        print(f"  {inclusive[name] * 100 / total:5.1f}%  {name}")
    print(f"  {no_managed * 100 / total:5.1f}%  no managed frame at all (GC, JIT, runtime threads)")
    print("\nSelf time by module:")
    for dso, n in dsos.most_common(10):
        print(f"  {n * 100 / total:5.1f}%  {dso}")
    print("\nTop functions by self time:")
    for sym, n in leaves.most_common(30):
        print(f"  {n * 100 / total:5.1f}%  {sym}")
    print("\nJIT tier of sampled managed leaf frames:", ", ".join(f"{k} {v * 100 / total:.1f}%" for k, v in tiers.most_common()))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BrokenPipeError:
        pass
