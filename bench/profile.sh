#!/usr/bin/env bash
# profile.sh [OUT]: profiles Parley's hot path under the relay load (candidate-sized messages).
# The server runs pinned to $SERVER_CPU with perf maps on (DOTNET_PerfMapEnabled=1, and
# DOTNET_EnableWriteXorExecute=0 so that perf can attribute JIT-compiled code); the generator
# relays from $GEN_CPU. After a 45 s warm-up (tier-1 code everywhere), it records:
#   perf (10 s, kernel and user stacks) -> perf-summary.txt (by component, and the top functions)
#   dotnet-counters System.Runtime (10 s) -> counters.csv (GC, allocation rate, thread pool)
#   dotnet-trace cpu sampling (10 s) -> relay.nettrace and trace-top.txt (dotnet-trace report topN)
# dotnet-counters and dotnet-trace are installed with `dotnet tool install -g` when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-artifacts/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ)}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
PORT=${PORT:-18400}
BIN=$PWD/artifacts/bench
mkdir -p "$OUT"
export PATH="$PATH:$HOME/.dotnet/tools"
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
for tool in dotnet-counters dotnet-trace; do
  command -v "$tool" >/dev/null || dotnet tool install -g "$tool" >/dev/null
done
[[ -f "$BIN/server/Parley.Server.dll" ]] || dotnet publish src/Parley.Server -c Release -o "$BIN/server" -nologo -v q
[[ -f "$BIN/load/Parley.Load.dll" ]] || dotnet publish bench/Parley.Load -c Release -o "$BIN/load" -nologo -v q

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 taskset -c "$SERVER_CPU" dotnet "$BIN/server/Parley.Server.dll" \
  --contentRoot "$BIN/server" --urls "http://127.0.0.1:$PORT" \
  --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 --Parley:ResumeWindow=00:00:00 >"$OUT/server.log" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.1; done
taskset -c "$GEN_CPU" dotnet "$BIN/load/Parley.Load.dll" relay --url "http://127.0.0.1:$PORT" --server-pid "$server" \
  --warmup 45 --max-warmup 0 --duration 40 --json "$OUT/relay-during-profile.json" >"$OUT/relay-during-profile.txt" 2>&1 &
pids+=($!)
sleep 50
echo "perf record (10 s)..." >&2
perf record -F 1999 -g -p "$server" -o "$OUT/perf.data" -- sleep 10 2>"$OUT/perf-record.log"
perf script -i "$OUT/perf.data" -F ip,sym,dso 2>/dev/null >"$OUT/perf.script"
python3 bench/profile_summary.py "$OUT/perf.script" | tee "$OUT/perf-summary.txt"
echo "dotnet-counters (10 s)..." >&2
taskset -c "$GEN_CPU" dotnet-counters collect -p "$server" --counters System.Runtime --refresh-interval 1 \
  --duration 00:00:00:10 --format csv -o "$OUT/counters.csv" >/dev/null 2>&1 || true
echo "dotnet-trace (10 s)..." >&2
taskset -c "$GEN_CPU" dotnet-trace collect -p "$server" --profile dotnet-sampled-thread-time --duration 00:00:00:10 \
  -o "$OUT/relay.nettrace" >/dev/null 2>&1 || true
dotnet-trace report "$OUT/relay.nettrace" topN -n 40 --inclusive >"$OUT/trace-top-inclusive.txt" 2>&1 || true
dotnet-trace report "$OUT/relay.nettrace" topN -n 40 >"$OUT/trace-top.txt" 2>&1 || true
wait "${pids[-1]}" || true
grep -E "relayed \(|per message|allocation|server CPU \(" "$OUT/relay-during-profile.txt" >&2 || true
echo "profile in $OUT" >&2
