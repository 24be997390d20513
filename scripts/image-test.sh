#!/usr/bin/env bash
# image-test.sh builds Parley's two container images with Podman, offline, and smoke-tests them
# (tests/Parley.Image.Tests) in a network namespace of its own that holds only loopback:
#
#   1. installs what is missing (Debian's podman, netavark, iptables, debootstrap, docker-compose,
#      chromium) and writes a private containers.conf (CONTAINERS_CONF, nothing in /etc changes);
#   2. makes the base images, or keeps them from an earlier run (skip what exists and is current):
#      localhost/debian:bookworm, a debootstrapped minbase from the machine's own Debian mirror,
#      also tagged docker.io/library/debian:bookworm-slim (Janus's base); and stand-ins for
#      mcr.microsoft.com/dotnet/aspnet:10.0 and sdk:10.0 built on it from the machine's own .NET
#      install (tests/Parley.Image.Tests/BaseImages), so both Dockerfiles build unchanged;
#   3. restores Parley's NuGet packages on the host into a local feed for the image's offline restore;
#   4. builds Parley's image from ./Dockerfile (--network none, --format docker: the default OCI
#      format drops HEALTHCHECK) and Janus's from deploy/janus/Dockerfile (its apt-get reaches the
#      Debian mirror, the one thing here allowed off this machine), tagged as compose.yaml names them;
#   5. runs the image tests inside the namespace: the images run read-only as uid 1654, health,
#      a bad setting, a browser call through Parley's container, Janus's info, and compose.yaml's
#      parley and janus services through podman's socket with docker-compose.
#
# It needs root (rootful podman, network namespaces); without root it says so and exits 77.
# docs/deployment.md says what these tests prove and what they do not.
#
# Usage: scripts/image-test.sh [--no-build] [--results-directory DIR] [extra dotnet test arguments]
#   --no-build              the solution is built already (scripts/test.sh builds it first)
#   --results-directory DIR write the tests' .trx there (scripts/test.sh counts them)
# Environment:
#   PARLEY_IMAGE_STORAGE=DIR   keep images in DIR instead of podman's default storage, e.g. an empty
#                              one to time a fresh machine (that storage is then left in place)
#   PARLEY_DEBIAN_MIRROR=URL   the Debian mirror for debootstrap (default: the bookworm one in
#                              /etc/apt/sources.list*)
# Exit status: 0 all passed, 1 something failed, 77 skipped (not root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { printf '\n== images: %s\n' "$*"; }
die() { printf 'image-test.sh: %s\n' "$*" >&2; exit 1; }

# The names the Dockerfiles' FROM lines use; image-test.sh makes local stand-ins under these names.
readonly DEBIAN_LOCAL=localhost/debian:bookworm
readonly DEBIAN_SLIM=docker.io/library/debian:bookworm-slim
readonly DOTNET_ASPNET=mcr.microsoft.com/dotnet/aspnet:10.0
readonly DOTNET_SDK=mcr.microsoft.com/dotnet/sdk:10.0
# The names compose.yaml gives the images it builds, so `docker-compose up --no-build` finds them.
readonly PARLEY_IMAGE=localhost/parley:latest
readonly JANUS_IMAGE=localhost/parley-janus:latest
readonly STANDIN_DIR=tests/Parley.Image.Tests/BaseImages

# ---- the inner part: everything that runs podman, in a private mount namespace ------------------
if [[ ${1:-} == __inner ]]; then
  shift
  work=$1 netns=$2 results=$3
  shift 3
  # crun refuses to run a container when the hugetlb controller is listed for this process, or
  # sits in the hybrid layout's cgroup2 hierarchy, but has no v1 hierarchy ("cgroups in hybrid
  # mode", TESTING.md): give it a v1 hierarchy, here only.
  if { grep -qE '^[0-9]+:hugetlb:' /proc/self/cgroup \
        || grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; } \
      && ! awk '$9 == "cgroup" && $NF ~ /(^|,)hugetlb(,|$)/ { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    mkdir -p "$work/hugetlb"
    mount -t cgroup -o hugetlb cgroup "$work/hugetlb"
  fi
  in_netns() { nsenter --net="/run/netns/$netns" "$@"; }

  timings=()
  step() { step_name=$1; step_started=$SECONDS; log "$1"; }
  step_done() {
    timings+=("$(printf '%5ss  %s' $((SECONDS - step_started)) "$step_name")")
    printf '   (%s s)\n' $((SECONDS - step_started))
  }

  # image_state NAME [KEY]: missing, current (made by this script with KEY), stale (made by this
  # script otherwise), or foreign (an image this script did not make, e.g. the official one).
  image_state() {
    podman image exists "$1" || { echo missing; return; }
    local made key
    made=$(podman image inspect --format '{{index .Labels "parley.stand-in"}}' "$1" 2>/dev/null || true)
    key=$(podman image inspect --format '{{index .Labels "parley.stand-in.key"}}' "$1" 2>/dev/null || true)
    if [[ -z $made || $made == '<no value>' ]]; then echo foreign
    elif [[ $key == "${2:-}" ]]; then echo current
    else echo stale
    fi
  }

  # The machine's own Debian mirror: the first enabled bookworm "deb" source in /etc/apt.
  debian_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -e $f ]] || continue
      awk 'function flush() {
             if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && enabled != "no" && uris != "") {
               split(uris, u, " "); print u[1]; found = 1; exit
             }
             types = suites = uris = enabled = ""
           }
           /^[ \t]*#/ { next }
           /^[ \t]*$/ { flush(); next }
           { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^[ \t]+/, "")
             if (key == "types") types = $0; else if (key == "uris") uris = $0
             else if (key == "suites") suites = $0; else if (key == "enabled") enabled = tolower($0) }
           END { if (!found) flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -e $f ]] || continue
      awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") print $i }' "$f"
    done
  }

  cleanup_inner() {
    # Every container of this run (labelled by the tests, or by compose's project), however it ended.
    local ids
    ids=$(podman ps -aq --filter "label=parley.image-test=$PARLEY_IMAGE_RUN" 2>/dev/null || true)
    ids+=" $(podman ps -aq --filter "label=com.docker.compose.project=$PARLEY_IMAGE_COMPOSE_PROJECT" 2>/dev/null || true)"
    if [[ -n ${ids// /} ]]; then
      echo "removing containers left by the tests: $ids" >&2
      # shellcheck disable=SC2086 # one id per word
      in_netns podman rm -f -t 0 $ids >/dev/null 2>&1 || true
    fi
    for v in $(podman volume ls -q --filter "label=com.docker.compose.project=$PARLEY_IMAGE_COMPOSE_PROJECT" 2>/dev/null); do
      podman volume rm -f "$v" >/dev/null 2>&1 || true
    done
    podman network rm -f "${PARLEY_IMAGE_COMPOSE_PROJECT}_default" >/dev/null 2>&1 || true
  }
  trap cleanup_inner EXIT

  # -- base images ------------------------------------------------------------------------------
  mirror=${PARLEY_DEBIAN_MIRROR:-$(debian_mirror | head -n 1)}
  [[ -n $mirror ]] || die "no Debian bookworm mirror in /etc/apt/sources.list*: set PARLEY_DEBIAN_MIRROR"
  debian_key="minbase-1 $mirror"
  if [[ $(image_state "$DEBIAN_LOCAL" "$debian_key") == current ]]; then
    log "$DEBIAN_LOCAL: cached"
  else
    step "making $DEBIAN_LOCAL: debootstrap --variant=minbase bookworm from $mirror"
    rootfs=$work/rootfs
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
      || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    # What the official images' build (debuerreotype) adds: no service starts during a build,
    # apt keeps no .deb files or translations, and the slim variant's documentation filter.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
    find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs/etc/hostname"
    tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
      --change 'CMD ["bash"]' \
      --change "LABEL parley.stand-in=debian:bookworm-slim" \
      --change "LABEL parley.stand-in.key=$debian_key" - "$DEBIAN_LOCAL" >/dev/null
    rm -rf "$rootfs"
    step_done
  fi
  debian_id=$(podman image inspect --format '{{.Id}}' "$DEBIAN_LOCAL")
  case $(image_state "$DEBIAN_SLIM" "$debian_key") in
    foreign) log "$DEBIAN_SLIM: using the image already there (not made by this script; it may be the official one)" ;;
    *) podman tag "$DEBIAN_LOCAL" "$DEBIAN_SLIM" ;;
  esac

  # -- the .NET stand-ins -----------------------------------------------------------------------
  dotnet_root=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
  dotnet_key=$( { cat "$STANDIN_DIR/Containerfile" "$STANDIN_DIR/NuGet.Config"; echo "$debian_id"
                  dotnet --list-sdks; dotnet --list-runtimes; } | sha256sum | cut -c1-16)
  need_standins=()
  for name in "$DOTNET_ASPNET" "$DOTNET_SDK"; do
    case $(image_state "$name" "$dotnet_key") in
      current) log "$name: cached (stand-in)" ;;
      foreign) die "$name exists and is not this script's stand-in (perhaps the official image); the offline build needs the stand-in: podman rmi $name, or set PARLEY_IMAGE_STORAGE" ;;
      *) need_standins+=("$name") ;;
    esac
  done
  if ((${#need_standins[@]})); then
    step "building the .NET stand-ins from $dotnet_root (${need_standins[*]})"
    context=$work/standin
    mkdir -p "$context/debs"
    cp "$STANDIN_DIR/Containerfile" "$STANDIN_DIR/NuGet.Config" "$context/"
    # The official runtime-deps packages that minbase lacks, from the machine's Debian mirror.
    (cd "$context/debs" && apt-get download -qq -o APT::Sandbox::User=root libssl3 openssl ca-certificates libicu72 tzdata) \
      || die "apt-get download of the stand-ins' packages failed"
    for target in aspnet sdk; do
      name=$DOTNET_ASPNET
      [[ $target == sdk ]] && name=$DOTNET_SDK
      in_netns podman build --quiet --format docker --network none --pull=never --target "$target" \
        --build-context "dotnet=$dotnet_root" \
        --label "parley.stand-in=$name" --label "parley.stand-in.key=$dotnet_key" \
        -t "$name" -f "$context/Containerfile" "$context" >"$work/standin-$target.log" 2>&1 \
        || { tail -n 30 "$work/standin-$target.log" >&2; die "building the $target stand-in failed (log above)"; }
    done
    step_done
  fi

  # -- the images under test --------------------------------------------------------------------
  step "restoring Parley's packages into a local feed (from this machine's NuGet cache)"
  # A copy of exactly what the Dockerfile's restore sees, so the worktree's obj/ stays as it is.
  restore=$work/restore
  mkdir -p "$restore/src/Parley.Server"
  cp global.json Directory.Build.props Directory.Packages.props .editorconfig "$restore/"
  cp src/Parley.Server/Parley.Server.csproj "$restore/src/Parley.Server/"
  global_packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
  dotnet restore "$restore/src/Parley.Server/Parley.Server.csproj" --packages "$work/feed" \
    --source "$global_packages" -p:NuGetAudit=false -nologo -v:quiet >"$work/restore.log" 2>&1 \
    || { cat "$work/restore.log" >&2; die "restoring the offline feed from $global_packages failed (build the solution first)"; }
  step_done

  step "building $PARLEY_IMAGE from ./Dockerfile (--network none, offline feed)"
  in_netns podman build --format docker --network none --pull=never \
    -v "$work/feed:/nuget-feed:ro" -t "$PARLEY_IMAGE" -f Dockerfile . >"$work/parley-build.log" 2>&1 \
    || { tail -n 40 "$work/parley-build.log" >&2; die "building Parley's image failed (log above)"; }
  step_done

  step "building $JANUS_IMAGE from deploy/janus/Dockerfile (apt-get from the Debian mirror)"
  # From the root network namespace: the build's apt-get fetches Debian's janus package.
  podman build --format docker --pull=never -t "$JANUS_IMAGE" -f deploy/janus/Dockerfile . >"$work/janus-build.log" 2>&1 \
    || { tail -n 40 "$work/janus-build.log" >&2; die "building the Janus image failed (log above)"; }
  step_done

  # Earlier runs' images that nothing names or builds on any more (a replaced parley:latest, a
  # build stage's last layer): a day's worth stay, as cache; older ones go, so a CI machine's disk
  # does not fill up run after run. Tagged images (the stand-ins, the images above) stay.
  podman image prune -f --filter until=24h >/dev/null

  # -- the tests --------------------------------------------------------------------------------
  step "testing the images (tests/Parley.Image.Tests, in network namespace $netns)"
  test_status=0
  # PARLEY_IMAGE_REQUIRED: here the images exist, so a test that cannot find one fails, never skips.
  export PARLEY_IMAGE_PARLEY=$PARLEY_IMAGE PARLEY_IMAGE_JANUS=$JANUS_IMAGE PARLEY_IMAGE_REQUIRED=1
  in_netns dotnet test tests/Parley.Image.Tests --no-build --nologo \
      --logger "trx;LogFilePrefix=Parley.Image.Tests" --results-directory "$results" "$@" || test_status=1
  step_done

  log "not exercised: the coturn service (coturn/coturn:4.13.1) and the caddy service (caddy:2.10), \
registry images that cannot be had offline, so neither Caddy's automatic TLS; the official \
$DOTNET_SDK, $DOTNET_ASPNET and debian:bookworm-slim images (the images under those names in \
Podman's storage were used: stand-ins unless said otherwise above); Docker Engine itself"
  log "timings"
  printf '%s\n' "${timings[@]}"
  exit $test_status
fi

# ---- the outer part: root, packages, configuration, the namespace, cleanup ----------------------
if [[ $(id -u) -ne 0 ]]; then
  echo "image tests skipped: they need root (rootful podman and network namespaces); run as root, as CI does" >&2
  exit 77
fi

build=1 results=""
args=()
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    --results-directory) results=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
started=$SECONDS

need_packages=()
command -v podman >/dev/null 2>&1 || need_packages+=(podman)
[[ -x /usr/lib/podman/netavark ]] || need_packages+=(netavark aardvark-dns)
command -v iptables >/dev/null 2>&1 || need_packages+=(iptables)
command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || need_packages+=(docker-compose)
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
command -v ip >/dev/null 2>&1 || need_packages+=(iproute2)
if ((${#need_packages[@]})); then
  log "installing ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

if ((build)); then
  log "building tests/Parley.Image.Tests"
  dotnet build tests/Parley.Image.Tests -warnaserror -nologo -clp:NoSummary -v:quiet
fi

work=$(mktemp -d /tmp/parley-image-test.XXXXXX)
netns="parley-image-$$"
[[ -n $results ]] || results=$work/results
status=1
export PARLEY_IMAGE_RUN="$$-$(date +%s)"
export PARLEY_IMAGE_COMPOSE_PROJECT="parleyimagetest$$"

# A containers.conf of this run's own (podman reads only this file when CONTAINERS_CONF is set):
# Debian's defaults plus default_ulimits, without which crun fails with "setrlimit RLIMIT_NOFILE:
# Operation not permitted" where this shell's hard limits are below podman's defaults: nofile is
# the hard limit, nproc the hard limit or kernel.pid_max if lower (measured here: pid_max 32768
# works, 32769 fails the same way, though the shell's own limit is 96362).
limit() { local v; v=$(ulimit -H "$1"); [[ $v == unlimited || $v -gt $2 ]] && v=$2; echo "$v"; }
nofile=$(limit -n 1048576) nproc=$(limit -u "$(cat /proc/sys/kernel/pid_max)")
ulimits="default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
if [[ -f /usr/share/containers/containers.conf ]] && grep -q '^\[containers\]' /usr/share/containers/containers.conf; then
  awk -v line="$ulimits" '{ print } /^\[containers\]/ { print line }' /usr/share/containers/containers.conf >"$work/containers.conf"
else
  printf '[containers]\n%s\n' "$ulimits" >"$work/containers.conf"
fi
export CONTAINERS_CONF=$work/containers.conf
if [[ -n ${PARLEY_IMAGE_STORAGE:-} ]]; then
  mkdir -p "$PARLEY_IMAGE_STORAGE"
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' \
    "$PARLEY_IMAGE_STORAGE" "$PARLEY_IMAGE_STORAGE" >"$work/storage.conf"
  export CONTAINERS_STORAGE_CONF=$work/storage.conf
  log "podman storage: $PARLEY_IMAGE_STORAGE"
fi

cleanup() {
  # Processes still in the namespace are this run's (it made the namespace): stop them by id.
  if [[ -e /run/netns/$netns ]]; then
    local pids
    pids=$(ip netns pids "$netns" 2>/dev/null | tr '\n' ' ')
    if [[ -n ${pids// /} ]]; then
      echo "stopping processes left in $netns: $pids" >&2
      # shellcheck disable=SC2086 # one pid per word
      kill $pids 2>/dev/null || true
      sleep 1
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
    fi
    ip netns del "$netns" 2>/dev/null || true
  fi
  # The build logs stay for a failed run; the rest (a root file system, the feed) goes.
  if ((status == 0)); then
    rm -rf "$work"
  else
    rm -rf "${work:?}"/{rootfs,standin,restore,feed,hugetlb}
    echo "image-test.sh: logs kept in $work" >&2
  fi
}
trap cleanup EXIT

ip netns add "$netns"
ip -n "$netns" link set lo up

# One private mount namespace for every podman command of the run (builds, tests, the compose
# service), so the hugetlb mount above and podman's own mounts vanish with it.
status=0
unshare --mount --propagation private "$BASH" "$0" __inner "$work" "$netns" "$results" "${args[@]}" || status=$?
log "done in $((SECONDS - started)) s"
exit $status
