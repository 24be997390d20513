#!/usr/bin/env bash
# run-sfu.sh runs Parley with the Janus SFU on this machine, to try it: Janus in the background
# with Parley's configuration (deploy/janus, its API on TCP 127.0.0.1:8188, ICE on the interface
# of the default route, fresh random secrets), then the server with `dotnet run`. Ctrl-C stops both.
# Browsers on this machine and on the LAN reach Janus's media on that interface.
#
# Usage: scripts/run-sfu.sh
# Environment:
#   MESH_MAX=1           calls switch from mesh to the SFU above this many people (Parley's default:
#                        4), so MESH_MAX=1 shows the SFU with two tabs
#   JANUS_INTERFACE      the interface for media (default: the default route's)
#   JANUS_PORT           Janus's API port on 127.0.0.1 (default 8188)
#   PARLEY_URLS          where Parley listens (default: Parley's own, http://localhost:8000;
#                        browsers give the camera only to https:// pages and localhost)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "run-sfu: $*" >&2
  exit 1
}

command -v janus >/dev/null 2>&1 || fail "Janus is not installed. On Debian or Ubuntu: sudo apt-get install janus
  Then stop the package's own service, which is open to the network (docs/deployment.md):
  sudo systemctl disable --now janus"
command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK is not installed (global.json names the version)."
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet janus 2>/dev/null; then
  fail "the janus package's own service is running: it is open to the network and holds port 8188.
  Stop it: sudo systemctl disable --now janus"
fi

iface=${JANUS_INTERFACE:-$(ip -o route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')}
[[ -n $iface ]] || fail "no default route: set JANUS_INTERFACE to the interface browsers reach this machine on."
[[ -d /sys/class/net/$iface ]] || fail "no interface $iface (JANUS_INTERFACE)."
port=${JANUS_PORT:-8188}

work=$(mktemp -d -t parley-sfu.XXXXXX)
janus_pid=""
cleanup() {
  if [[ -n $janus_pid ]]; then
    kill "$janus_pid" 2>/dev/null || true
    wait "$janus_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The production files with only what a local run needs changed: the API on TCP loopback (with
# an ACL) instead of the container's UNIX socket, and ICE on one interface instead of "every one
# but container bridges". The secrets go in through the image's own entrypoint script.
mkdir "$work/templates"
cp deploy/janus/*.jcfg "$work/templates/"
sed -i -e "s|^\([[:space:]]*\)ws_unix = .*|\1ws_ip = \"127.0.0.1\"\n\1ws_port = $port\n\1ws_acl = \"127.0.0.1\"|" \
  "$work/templates/janus.transport.websockets.jcfg"
sed -i -e "s|^\([[:space:]]*\)ice_ignore_list = .*|\1ice_enforce_list = \"$iface\"|" "$work/templates/janus.jcfg"

# Secrets made by bash built-ins and a pipe: never on a command line.
api_secret=$(scripts/gen-secrets.sh JANUS_API_SECRET)
admin_key=$(scripts/gen-secrets.sh JANUS_ADMIN_KEY)
JANUS_API_SECRET=${api_secret#*=} JANUS_ADMIN_KEY=${admin_key#*=} \
  JANUS_TEMPLATE_DIR="$work/templates" JANUS_CONFIG_DIR="$work/config" \
  deploy/janus/entrypoint.sh >"$work/janus.log" 2>&1 &
janus_pid=$!

# Janus answers within a second; give it ten.
for _ in $(seq 1 100); do
  if deploy/janus/healthcheck "127.0.0.1:$port" >/dev/null; then
    break
  fi
  if ! kill -0 "$janus_pid" 2>/dev/null; then
    janus_pid=""
    tail -n 30 "$work/janus.log" >&2
    fail "Janus stopped at start (its log is above)."
  fi
  sleep 0.1
done
deploy/janus/healthcheck "127.0.0.1:$port" >/dev/null || { tail -n 30 "$work/janus.log" >&2; fail "Janus did not answer on 127.0.0.1:$port."; }

address=$(ip -4 -o addr show dev "$iface" 2>/dev/null | awk '{ print $4; exit }')
echo "run-sfu: Janus (pid $janus_pid) answers on ws://127.0.0.1:$port; media on $iface ${address:-}, UDP 20000-40000; log $work/janus.log"

export Parley__Sfu__JanusUrl="ws://127.0.0.1:$port"
export Parley__Sfu__ApiSecret=${api_secret#*=}
export Parley__Sfu__AdminKey=${admin_key#*=}
if [[ -n ${MESH_MAX:-} ]]; then
  export Parley__Sfu__MeshMax=$MESH_MAX
fi
if [[ -n ${PARLEY_URLS:-} ]]; then
  export ASPNETCORE_URLS=$PARLEY_URLS
fi
echo "run-sfu: Parley on ${PARLEY_URLS:-http://localhost:8000} with Parley:Sfu:MeshMax=${MESH_MAX:-4 (its default)}; Ctrl-C stops both"
dotnet run --project src/Parley.Server
