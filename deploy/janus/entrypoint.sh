#!/bin/sh
# entrypoint.sh starts Parley's Janus with its secrets, keeping them off every command line (which
# any local user can read in ps) and out of the image: it copies the shipped configuration
# (deploy/janus/*.jcfg, placeholders @JANUS_API_SECRET@ and @JANUS_ADMIN_KEY@) into a private
# directory, with the secrets from the environment put in their place, then becomes Janus.
#
# Environment:
#   JANUS_API_SECRET    required: the core api_secret Parley sends (Parley:Sfu:ApiSecret)
#   JANUS_ADMIN_KEY     required: the VideoRoom admin_key Parley sends (Parley:Sfu:AdminKey)
#                       Both: 16 or more of A-Z a-z 0-9 _ - (scripts/gen-secrets.sh makes them).
#                       The alphabet is checked so a secret can never end the quoted value it goes
#                       into, whatever Janus's configuration parser does with quotes or backslashes.
#   JANUS_NAT_1_1       optional: the public IPv4 address of a host behind 1:1 NAT (a cloud VM),
#                       passed as --nat-1-1; "public/private" (coturn's form) is accepted too.
#   JANUS_TEMPLATE_DIR  the shipped configuration (default /etc/parley/janus)
#   JANUS_CONFIG_DIR    where the private copy goes (default /run/janus-config, a tmpfs in Compose)
# Extra arguments are passed to janus.
set -eu

templates=${JANUS_TEMPLATE_DIR:-/etc/parley/janus}
config=${JANUS_CONFIG_DIR:-/run/janus-config}

# check_secret NAME VALUE: stop with a message unless VALUE is a usable secret.
check_secret() {
  case $2 in
    '') echo "$1 is not set (scripts/gen-secrets.sh makes one)" >&2; exit 1 ;;
    *[!A-Za-z0-9_-]*) echo "$1 may hold only A-Z a-z 0-9 _ - (scripts/gen-secrets.sh makes one)" >&2; exit 1 ;;
  esac
  if [ ${#2} -lt 16 ]; then
    echo "$1 is too short: use 16 characters or more (scripts/gen-secrets.sh makes one)" >&2
    exit 1
  fi
}
check_secret JANUS_API_SECRET "${JANUS_API_SECRET:-}"
check_secret JANUS_ADMIN_KEY "${JANUS_ADMIN_KEY:-}"

nat=${JANUS_NAT_1_1:-}
nat=${nat%%/*}
case $nat in
  *[!0-9.]*) echo "JANUS_NAT_1_1 must be an IPv4 address, not $nat" >&2; exit 1 ;;
esac

# Everything written from here on is readable by this user only.
umask 077
mkdir -p "$config"
for template in "$templates"/*.jcfg; do
  out="$config/${template##*/}"
  rm -f "$out"
  # Substitution with shell built-ins only (read, printf, parameter expansion): the secrets are
  # never an argument of another program. `|| [ -n "$line" ]` keeps a last line without newline.
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      *@JANUS_API_SECRET@*) line=${line%%@JANUS_API_SECRET@*}$JANUS_API_SECRET${line#*@JANUS_API_SECRET@} ;;
    esac
    case $line in
      *@JANUS_ADMIN_KEY@*) line=${line%%@JANUS_ADMIN_KEY@*}$JANUS_ADMIN_KEY${line#*@JANUS_ADMIN_KEY@} ;;
    esac
    printf '%s\n' "$line"
  done < "$template" > "$out"
done

# Janus reads the secrets from the files; its environment (/proc/PID/environ) need not hold them.
unset JANUS_API_SECRET JANUS_ADMIN_KEY
if [ -n "$nat" ]; then
  set -- --nat-1-1="$nat" "$@"
fi
exec janus -F "$config" "$@"
