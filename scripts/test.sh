#!/usr/bin/env bash
# test.sh builds Parley and runs every test: the server's unit and integration tests, the
# network tests against Debian's coturn, the SFU tests against Debian's Janus, the browser
# tests in Chromium and Firefox ESR, then the container images (scripts/image-test.sh, as root). As root it
# installs what is missing (Debian's chromium, firefox-esr, coturn, janus, redis-server, node) and runs the tests inside a network
# namespace of their own that holds only loopback, so no browser or WebRTC traffic can leave the
# machine. Without root the tests run directly.
#
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter ...]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_packages=()
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
command -v ip >/dev/null 2>&1 || need_packages+=(iproute2)
command -v turnserver >/dev/null 2>&1 || need_packages+=(coturn)
command -v nft >/dev/null 2>&1 || need_packages+=(nftables)
command -v docker-compose >/dev/null 2>&1 || need_packages+=(docker-compose)
command -v janus >/dev/null 2>&1 || need_packages+=(janus)
command -v firefox-esr >/dev/null 2>&1 || need_packages+=(firefox-esr)
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
command -v node >/dev/null 2>&1 || need_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || need_packages+=(npm)
if ((${#need_packages[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    log "installing ${need_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
    # The janus package enables and starts its own service, open to the network (WebSocket and
    # HTTP API on every interface, no api_secret): the tests run their own Janus, so stop it.
    if [[ " ${need_packages[*]} " == *" janus "* && -d /run/systemd/system ]]; then
      log "disabling the janus package's own service (open to the network; see docs/deployment.md)"
      systemctl disable --now janus >/dev/null 2>&1 || true
    fi
    # The same for redis-server: the tests start their own, on ports of their own.
    if [[ " ${need_packages[*]} " == *" redis-server "* && -d /run/systemd/system ]]; then
      systemctl disable --now redis-server >/dev/null 2>&1 || true
    fi
  else
    echo "missing: ${need_packages[*]} (install them, or run this script as root)" >&2
    exit 1
  fi
fi

# The Firefox tests' driver (tests/firefox/driver.mjs): puppeteer-core, from the lock file. It
# drives Debian's Firefox over WebDriver BiDi, so no browser is downloaded.
log "installing the Firefox driver's packages (npm ci)"
(cd tests/firefox && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

log "building"
dotnet build Parley.slnx -warnaserror -nologo -clp:NoSummary -v:quiet

results=$(mktemp -d)
netns=""
cleanup() {
  [[ -n "$netns" ]] && ip netns del "$netns" 2>/dev/null || true
  rm -rf "$results"
}
trap cleanup EXIT

run=()
if [[ $(id -u) -eq 0 ]]; then
  netns="parley-test-$$"
  ip netns add "$netns"
  ip netns exec "$netns" ip link set lo up
  run=(ip netns exec "$netns")
  log "tests run in network namespace $netns (loopback only)"
fi

status=0

# The image's publish command, smoke-tested: the published app starts and passes its own healthcheck.
log "publishing (the Dockerfile's command) and checking the published app"
scripts/publish.sh "$results/publish"
port=$((20000 + RANDOM % 20000))
"${run[@]}" dotnet "$results/publish/Parley.Server.dll" --urls "http://127.0.0.1:$port" >"$results/published.log" 2>&1 &
published=$!
healthy=0
for _ in $(seq 1 50); do
  if "${run[@]}" dotnet "$results/publish/Parley.Server.dll" --healthcheck "http://127.0.0.1:$port/healthz"; then healthy=1; break; fi
  sleep 0.2
done
kill "$published" 2>/dev/null; wait "$published" 2>/dev/null || true
if ((healthy == 0)); then
  echo "the published app did not become healthy:" >&2
  cat "$results/published.log" >&2
  status=1
fi

for project in tests/Parley.Server.Tests tests/Parley.Network.Tests tests/Parley.Sfu.Tests tests/Parley.Browser.Tests; do
  log "testing $project"
  "${run[@]}" dotnet test "$project" --no-build --nologo \
    --logger "trx;LogFilePrefix=$(basename "$project")" --results-directory "$results" "$@" || status=1
done

# The benchmark tools, checked to work (a few seconds of each scenario on loopback; no timings asserted).
log "benchmark smoke"
bench/smoke.sh || status=1

# The container images, built with podman and smoke-tested (scripts/image-test.sh): as root only,
# and a skip is said, with its reason, in the closing line. The dotnet test arguments are not
# passed on: the images are built in any case, so their tests all run.
images="skipped (not root: building and running the images needs rootful podman; CI runs as root)"
if [[ $(id -u) -eq 0 ]]; then
  log "container images (scripts/image-test.sh)"
  images_started=$SECONDS
  images_status=0
  scripts/image-test.sh --no-build --results-directory "$results" || images_status=$?
  images_time="$((SECONDS - images_started)) s"
  case $images_status in
    0) images="passed ($images_time)" ;;
    77) images="skipped (scripts/image-test.sh said why above)" ;;
    *) images="failed ($images_time; scripts/image-test.sh said why above)"; status=1 ;;
  esac
fi

# One closing line for every runner that reads it: "N passed, N failed".
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [[ -e "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + t - e))
done
echo
echo "$passed passed, $failed failed, $skipped skipped; images: $images"
if ((passed == 0)); then
  echo "no test ran" >&2
  exit 1
fi
exit $status
