#!/usr/bin/env bash
# run.sh reproduces every figure in docs/benchmarks.md with one command.
#
#   bench/run.sh [all|load|relay|latency|density|joins|jointime|profile|smoke] ...
#
# all (the default) runs load (relay, latency, density, joins: Parley and the floor) and
# jointime. Results (tables, JSON, server logs) go to $OUT, by default
# artifacts/bench/results/<UTC time>/. The server under test and the floor each run pinned to
# CPU $SERVER_CPU (default 0) and the generator to CPU $GEN_CPU (default 1), one at a time.
# Environment: SERVER_CPU GEN_CPU PORT FLOOR_PORT OUT RELAY_DURATION CONNECTIONS JOIN_RUNS.
#
# The server runs with the per-connection limits raised so that they do not throttle the load
# (the token bucket itself still runs for every message) and rooms of two:
#   --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2
# Everything targets 127.0.0.1 (and 127.0.0.2.. as source addresses); jointime runs the browser
# and its own server inside a network namespace that holds only loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
PORT=${PORT:-18400}
FLOOR_PORT=${FLOOR_PORT:-18401}
RELAY_DURATION=${RELAY_DURATION:-15}
CONNECTIONS=${CONNECTIONS:-10000}
JOIN_RUNS=${JOIN_RUNS:-12}
OUT=${OUT:-artifacts/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
BIN=$PWD/artifacts/bench
SERVER_FLAGS=(--Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\n== %s\n' "$*" >&2; }
mkdir -p "$OUT"
pids=()
netns=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n "$netns" ]] && ip netns del "$netns" 2>/dev/null || true
}
trap cleanup EXIT

build() {
  log "publishing Release builds to $BIN"
  dotnet publish src/Parley.Server -c Release -o "$BIN/server" -nologo -v q
  dotnet publish bench/Parley.Floor -c Release -o "$BIN/floor" -nologo -v q
  dotnet publish bench/Parley.Load -c Release -o "$BIN/load" -nologo -v q
}

# Each process may hold one descriptor per connection: raise the soft limit as far as the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

machine() {
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "cpus: $(nproc --all); model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "memory: $(free -h | awk '/Mem:/ {print $2}'); kernel: $(uname -r); dotnet: $(dotnet --version) (runtime $(dotnet --list-runtimes | awk '/NETCore.App/ {v=$2} END {print v}'))"
    echo "server CPU: $SERVER_CPU; generator CPU: $GEN_CPU; open-file limit: $(ulimit -n)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    top -bn1 | head -12
  } | tee "$OUT/machine.txt" >&2
}

wait_http() { # url
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing answers at $1" >&2; return 1
}

# start_server NAME: starts Parley (NAME=parley) or the floor pinned to $SERVER_CPU; sets $started_pid.
start_server() {
  local name=$1 extra_env=${2:-}
  if [[ $name == parley ]]; then
    env $extra_env taskset -c "$SERVER_CPU" dotnet "$BIN/server/Parley.Server.dll" --contentRoot "$BIN/server" \
      --urls "http://127.0.0.1:$PORT" "${SERVER_FLAGS[@]}" >"$OUT/$name-$(date +%s).log" 2>&1 &
    started_pid=$!
    wait_http "http://127.0.0.1:$PORT/readyz"
  else
    taskset -c "$SERVER_CPU" dotnet "$BIN/floor/Parley.Floor.dll" --urls "http://127.0.0.1:$FLOOR_PORT" \
      >"$OUT/$name-$(date +%s).log" 2>&1 &
    started_pid=$!
    sleep 1
    for _ in $(seq 1 50); do ss -ltn | grep -q ":$FLOOR_PORT " && break; sleep 0.1; done
  fi
  pids+=("$started_pid")
}

stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

load() { # scenario [args...]: runs the generator pinned to $GEN_CPU against both servers
  local scenario=$1; shift
  taskset -c "$GEN_CPU" dotnet "$BIN/load/Parley.Load.dll" "$scenario" \
    --url "http://127.0.0.1:$PORT" --server-pid "$parley_pid" \
    --floor-url "http://127.0.0.1:$FLOOR_PORT" --floor-pid "$floor_pid" "$@"
}

fresh_servers() {
  stop_servers
  start_server parley; parley_pid=$started_pid
  start_server floor; floor_pid=$started_pid
}

run_relay() {
  log "relay throughput: candidate-sized, then offer-sized messages"
  fresh_servers
  load relay --message candidate --duration "$RELAY_DURATION" --json "$OUT/relay-candidate.json" | tee "$OUT/relay-candidate.txt"
  load relay --message offer --duration "$RELAY_DURATION" --json "$OUT/relay-offer.json" | tee "$OUT/relay-offer.txt"
}

run_latency() {
  log "latency at 10k and 20k msg/s and at 50% of each server's maximum"
  [[ ${#pids[@]} -gt 0 ]] || fresh_servers
  load latency --rates 10000,20000,50% --duration "$RELAY_DURATION" --json "$OUT/latency.json" | tee "$OUT/latency.txt"
}

run_density() {
  log "idle density: $CONNECTIONS connections"
  fresh_servers
  load density --connections "$CONNECTIONS" --json "$OUT/density.json" | tee "$OUT/density.txt"
  # 50k needs more descriptors than some sandboxes allow (the server holds one per connection).
  local limit; limit=$(ulimit -n)
  if [[ $limit == unlimited || $limit -ge 51000 ]]; then
    fresh_servers
    load density --connections 50000 --json "$OUT/density-50k.json" | tee "$OUT/density-50k.txt"
  else
    echo "density at 50k skipped: the open-file limit is $limit (raise it with ulimit -n as root with CAP_SYS_RESOURCE)" | tee "$OUT/density-50k.txt" >&2
  fi
}

run_joins() {
  log "join rate and reconnect storm: $CONNECTIONS connections"
  fresh_servers
  load joins --connections "$CONNECTIONS" --json "$OUT/joins.json" | tee "$OUT/joins.txt"
}

run_jointime() {
  log "join time in Chromium: $JOIN_RUNS runs in a network namespace"
  command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; return 1; }
  dotnet build bench/Parley.JoinTime -c Release -nologo -v q -o "$BIN/jointime"
  [[ -x "$BIN/server/Parley.Server" || -f "$BIN/server/Parley.Server.dll" ]] || build
  netns="parley-bench-$$"
  ip netns add "$netns"
  ip netns exec "$netns" ip link set lo up
  # The product's default limits: the browser is an ordinary client.
  ip netns exec "$netns" taskset -c "$SERVER_CPU" dotnet "$BIN/server/Parley.Server.dll" --contentRoot "$BIN/server" \
    --urls "http://127.0.0.1:$PORT" >"$OUT/jointime-server.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do ip netns exec "$netns" curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.1; done
  ip netns exec "$netns" dotnet "$BIN/jointime/Parley.JoinTime.dll" --url "http://127.0.0.1:$PORT" \
    --runs "$JOIN_RUNS" --server-pid "$pid" --json "$OUT/jointime.json" | tee "$OUT/jointime.txt"
  stop_servers
  ip netns del "$netns"; netns=""
}

case $what in
  all) machine; build; run_relay; run_latency; run_density; run_joins; stop_servers; run_jointime ;;
  load) machine; build; run_relay; run_latency; run_density; run_joins ;;
  relay) machine; build; run_relay ;;
  latency) machine; build; run_latency ;;
  density) machine; build; run_density ;;
  joins) machine; build; run_joins ;;
  jointime) machine; run_jointime ;;
  profile) machine; build; exec bench/profile.sh "$OUT" ;;
  smoke) exec bench/smoke.sh ;;
  *) echo "usage: bench/run.sh [all|load|relay|latency|density|joins|jointime|profile|smoke]" >&2; exit 2 ;;
esac
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
log "results in $OUT"
