#!/usr/bin/env bash
# smoke.sh checks that the benchmark tools work, in a few seconds, with no timing asserted: it
# builds Parley, the floor and the generator, starts both servers on free loopback ports and runs
# `Parley.Load smoke` against them. It exits non-zero if any scenario failed. For CI.
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
  --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 >"$BIN/server.log" 2>&1 &
pids+=($!); server_pid=$!
dotnet "$BIN/floor/Parley.Floor.dll" --urls "http://127.0.0.1:$floor_port" >"$BIN/floor.log" 2>&1 &
pids+=($!); floor_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 1 100); do ss -ltn | grep -q ":$floor_port " && break; sleep 0.1; done
dotnet "$BIN/load/Parley.Load.dll" smoke --url "http://127.0.0.1:$port" --server-pid "$server_pid" \
  --floor-url "http://127.0.0.1:$floor_port" --floor-pid "$floor_pid"
