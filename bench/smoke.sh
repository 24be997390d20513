#!/usr/bin/env bash
# smoke.sh checks that the benchmark tools work, in a few seconds, with no timing asserted: it
# builds Parley, the floor and the generator, starts both servers on free loopback ports and runs
# `Parley.Load smoke` against them; as root with janus installed, it also starts and stops
# `Parley.SfuBench serve` (Janus plus Parley, ~4 s). It exits non-zero if any check failed. For CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/artifacts/bench/smoke}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Parley.Server -c Release -nologo -v q -o "$BIN/server"
dotnet build bench/Parley.Floor -c Release -nologo -v q -o "$BIN/floor"
dotnet build bench/Parley.Load -c Release -nologo -v q -o "$BIN/load"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port); floor_port=$(free_port)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
dotnet "$BIN/server/Parley.Server.dll" --contentRoot "$BIN/server" --urls "http://127.0.0.1:$port" \
  --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 --Parley:ResumeWindow=00:00:00 >"$BIN/server.log" 2>&1 &
pids+=($!); server_pid=$!
dotnet "$BIN/floor/Parley.Floor.dll" --urls "http://127.0.0.1:$floor_port" >"$BIN/floor.log" 2>&1 &
pids+=($!); floor_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 1 100); do ss -ltn | grep -q ":$floor_port " && break; sleep 0.1; done
dotnet "$BIN/load/Parley.Load.dll" smoke --url "http://127.0.0.1:$port" --server-pid "$server_pid" \
  --floor-url "http://127.0.0.1:$floor_port" --floor-pid "$floor_pid"

# SfuBench: serve starts Janus (in a namespace of its own) and this Parley pointed at it, and stops
# both on SIGTERM (~4 s). Only as root with janus installed, inside a loopback-only namespace of
# this script's. The Debug build of scripts/test.sh is used when it is newer than the sources.
if [[ $(id -u) -ne 0 ]] || ! command -v janus >/dev/null; then
  echo "sfubench smoke skipped: it needs root and janus (network namespaces for Janus)"
  exit 0
fi
sfubench=bench/Parley.SfuBench/bin/Debug/net10.0/Parley.SfuBench.dll
if [[ ! -f $sfubench ]] || [[ -n $(find bench/Parley.SfuBench tests/Parley.Testing src/Parley.Server \( -name '*.cs' -o -name '*.js' -o -name '*.csproj' \) -newer "$sfubench" -print -quit) ]]; then
  dotnet build bench/Parley.SfuBench -nologo -v q
fi
netns="parley-smoke-$$"
ip netns add "$netns"
ip netns exec "$netns" ip link set lo up
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; ip netns del "$netns" 2>/dev/null || true' EXIT
sfu_port=$(free_port)
rm -f "$BIN/sfubench.ready"
ip netns exec "$netns" dotnet "$sfubench" serve --server-dll "$BIN/server/Parley.Server.dll" --port "$sfu_port" \
  --server-log "$BIN/sfubench-server.log" --ready-file "$BIN/sfubench.ready" >"$BIN/sfubench.log" 2>&1 &
serve=$!
pids+=("$serve")
for _ in $(seq 1 300); do
  [[ -f "$BIN/sfubench.ready" ]] && break
  kill -0 "$serve" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -f "$BIN/sfubench.ready" ]]; then
  echo "sfubench serve did not start:" >&2; cat "$BIN/sfubench.log" >&2; exit 1
fi
kill -TERM "$serve"
status=0
wait "$serve" || status=$?
if ((status != 0)) || ip netns list | grep -q "^parley-janus-$serve-"; then
  echo "sfubench serve did not stop cleanly (exit $status):" >&2; cat "$BIN/sfubench.log" >&2; exit 1
fi
echo "sfubench serve: started and stopped ($(sed -n 's/^url=//p' "$BIN/sfubench.ready"), Janus and its namespace gone)"
