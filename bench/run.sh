#!/usr/bin/env bash
# run.sh reproduces every figure in docs/benchmarks.md with one command.
#
#   bench/run.sh [all|load|relay|latency|density|joins|jointime|jointime-sfu|switch|gaps|seven|sfu|profile|smoke] ...
#
# all (the default) runs load (relay, latency, density, joins: Parley and the floor) and
# jointime, and, when Debian's janus is installed, sfu (jointime-sfu, switch, gaps, seven: calls
# through the media server, bench/Parley.SfuBench). Results (tables, JSON, server logs) go to
# $OUT, by default artifacts/bench/results/<UTC time>/. The server under test and the floor each
# run pinned to CPU $SERVER_CPU (default 0) and the generator to CPU $GEN_CPU (default 1), one at
# a time.
# Environment: SERVER_CPU GEN_CPU PORT FLOOR_PORT OUT RELAY_DURATION CONNECTIONS JOIN_RUNS
#              SWITCH_RUNS GAP_SWITCHES SEVEN_RUNS SEVEN_WINDOW.
#
# The server runs with the per-connection limits raised so that they do not throttle the load
# (the token bucket itself still runs for every message) and rooms of two:
#   --Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 --Parley:ResumeWindow=00:00:00
# Everything targets 127.0.0.1 (and 127.0.0.2.. as source addresses); jointime and the SFU
# targets run the browser, the server and Janus inside a network namespace of this script's that
# holds only loopback (Janus itself in a namespace of its own inside it, linked by a veth pair).
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
SWITCH_RUNS=${SWITCH_RUNS:-5}
GAP_SWITCHES=${GAP_SWITCHES:-10}
SEVEN_RUNS=${SEVEN_RUNS:-1}
SEVEN_WINDOW=${SEVEN_WINDOW:-20}
OUT=${OUT:-artifacts/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
BIN=$PWD/artifacts/bench
SERVER_FLAGS=(--Parley:MessagesPerSecond=1000000 --Parley:MessageBurst=1000000 --Parley:MaxParticipants=2 --Parley:ResumeWindow=00:00:00)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\n== %s\n' "$*" >&2; }
mkdir -p "$OUT"
pids=()
netns=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # SfuBench stops its Parley and Janus on SIGTERM; give it the time to.
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  leave_netns
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

# enter_netns makes the loopback-only network namespace $netns for browsers and Janus.
enter_netns() {
  netns="parley-bench-$$"
  ip netns add "$netns"
  ip netns exec "$netns" ip link set lo up
}

# leave_netns deletes $netns, and any namespace of Janus's that an SfuBench we started left
# behind (JanusServer names them parley-janus-<its pid>-<n>; it deletes them itself when it ends
# normally), after stopping what still runs there.
leave_netns() {
  local pid ns
  for pid in "${sfubench_pids[@]}"; do
    for ns in $(ip netns list | awk '{print $1}' | grep "^parley-janus-$pid-" || true); do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    done
  done
  sfubench_pids=()
  if [[ -n "$netns" ]]; then ip netns del "$netns" 2>/dev/null || true; fi
  netns=""
}
sfubench_pids=()

run_jointime() {
  log "join time in Chromium: $JOIN_RUNS runs in a network namespace"
  command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; return 1; }
  dotnet build bench/Parley.JoinTime -c Release -nologo -v q -o "$BIN/jointime"
  [[ -x "$BIN/server/Parley.Server" || -f "$BIN/server/Parley.Server.dll" ]] || build
  enter_netns
  # The product's default limits: the browser is an ordinary client.
  ip netns exec "$netns" taskset -c "$SERVER_CPU" dotnet "$BIN/server/Parley.Server.dll" --contentRoot "$BIN/server" \
    --urls "http://127.0.0.1:$PORT" >"$OUT/jointime-server.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do ip netns exec "$netns" curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.1; done
  ip netns exec "$netns" dotnet "$BIN/jointime/Parley.JoinTime.dll" --url "http://127.0.0.1:$PORT" \
    --runs "$JOIN_RUNS" --server-pid "$pid" --json "$OUT/jointime.json" | tee "$OUT/jointime.txt"
  stop_servers
  leave_netns
}

# The SFU targets: bench/Parley.SfuBench starts Janus (in its own namespace, by a veth inside
# $netns) and the published Parley pointed at it. They need root, janus and chromium.
sfu_ready() {
  command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; return 1; }
  command -v janus >/dev/null || { echo "janus is not installed (apt-get install janus)" >&2; return 1; }
  [[ $(id -u) -eq 0 ]] || { echo "the SFU benchmarks need root (network namespaces for Janus)" >&2; return 1; }
  [[ -f "$BIN/server/Parley.Server.dll" ]] || build
  dotnet build bench/Parley.SfuBench -c Release -nologo -v q -o "$BIN/sfubench"
}

# sfubench COMMAND ARGS...: runs SfuBench in $netns; its table goes to $OUT/sfu-COMMAND.txt and the terminal.
sfubench() {
  local command=$1; shift
  ip netns exec "$netns" dotnet "$BIN/sfubench/Parley.SfuBench.dll" "$command" --server-dll "$BIN/server/Parley.Server.dll" \
    --port "$PORT" --server-log "$OUT/sfu-$command-server.log" --json "$OUT/sfu-$command.json" "$@" >"$OUT/sfu-$command.txt" &
  local pid=$!
  pids+=("$pid"); sfubench_pids+=("$pid")
  local status=0
  wait "$pid" || status=$?
  local p kept=()
  for p in "${pids[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
  cat "$OUT/sfu-$command.txt"
  return $status
}

run_jointime_sfu() {
  log "join time in Chromium through the SFU (MeshMax 1: the second join moves the room to Janus): $JOIN_RUNS runs"
  sfu_ready
  dotnet build bench/Parley.JoinTime -c Release -nologo -v q -o "$BIN/jointime"
  enter_netns
  local ready="$OUT/sfu-serve.ready"
  rm -f "$ready"
  ip netns exec "$netns" dotnet "$BIN/sfubench/Parley.SfuBench.dll" serve --server-dll "$BIN/server/Parley.Server.dll" \
    --port "$PORT" --cpu "$SERVER_CPU" --mesh-max 1 --server-log "$OUT/jointime-sfu-server.log" --ready-file "$ready" \
    >"$OUT/sfu-serve.txt" 2>&1 &
  local serve=$!
  pids+=("$serve"); sfubench_pids+=("$serve")
  for _ in $(seq 1 600); do
    [[ -f "$ready" ]] && break
    kill -0 "$serve" 2>/dev/null || { cat "$OUT/sfu-serve.txt" >&2; return 1; }
    sleep 0.1
  done
  [[ -f "$ready" ]] || { echo "SfuBench serve was not ready within 60 s" >&2; cat "$OUT/sfu-serve.txt" >&2; return 1; }
  local url parley_pid
  url=$(sed -n 's/^url=//p' "$ready"); parley_pid=$(sed -n 's/^parley_pid=//p' "$ready")
  ip netns exec "$netns" dotnet "$BIN/jointime/Parley.JoinTime.dll" --url "${url%/}" --label "SFU, MeshMax 1" \
    --runs "$JOIN_RUNS" --server-pid "$parley_pid" --json "$OUT/jointime-sfu.json" | tee "$OUT/jointime-sfu.txt"
  stop_servers
  leave_netns
}

run_switch() {
  log "mesh → SFU: the fifth join into a mesh of four (MeshMax 4), $SWITCH_RUNS runs"
  sfu_ready
  enter_netns
  sfubench switch --mesh-max 4 --runs "$SWITCH_RUNS"
  leave_netns
}

run_gaps() {
  log "the longest gap in each stream across $GAP_SWITCHES switches up (MeshMax 4: 4 → 5) and down (5 → 3)"
  sfu_ready
  enter_netns
  sfubench gaps --mesh-max 4 --switches "$GAP_SWITCHES" --sfu-log-level Debug
  leave_netns
}

run_seven() {
  log "a seven-party call on the SFU: Parley's and Janus's CPU over $SEVEN_WINDOW s, $SEVEN_RUNS run(s)"
  sfu_ready
  enter_netns
  sfubench seven --parties 7 --mesh-max 4 --runs "$SEVEN_RUNS" --window "$SEVEN_WINDOW"
  leave_netns
}

run_sfu() { run_jointime_sfu; run_switch; run_gaps; run_seven; }

# run_sfu_if_janus: all runs the SFU targets only where Janus is installed.
run_sfu_if_janus() {
  if command -v janus >/dev/null; then
    run_sfu
  else
    log "SFU benchmarks (jointime-sfu, switch, gaps, seven) skipped: janus is not installed (apt-get install janus)"
  fi
}

case $what in
  all) machine; build; run_relay; run_latency; run_density; run_joins; stop_servers; run_jointime; run_sfu_if_janus ;;
  load) machine; build; run_relay; run_latency; run_density; run_joins ;;
  relay) machine; build; run_relay ;;
  latency) machine; build; run_latency ;;
  density) machine; build; run_density ;;
  joins) machine; build; run_joins ;;
  jointime) machine; run_jointime ;;
  jointime-sfu) machine; run_jointime_sfu ;;
  switch) machine; run_switch ;;
  gaps) machine; run_gaps ;;
  seven) machine; run_seven ;;
  sfu) machine; run_sfu ;;
  profile) machine; build; exec bench/profile.sh "$OUT" ;;
  smoke) exec bench/smoke.sh ;;
  *) echo "usage: bench/run.sh [all|load|relay|latency|density|joins|jointime|jointime-sfu|switch|gaps|seven|sfu|profile|smoke]" >&2; exit 2 ;;
esac
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
log "results in $OUT"
