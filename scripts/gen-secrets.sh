#!/usr/bin/env bash
# gen-secrets.sh makes the deployment's secrets: TURN_SECRET (Parley and coturn), JANUS_API_SECRET
# and JANUS_ADMIN_KEY (Parley and Janus), each 384 random bits as 64 characters of A-Z a-z 0-9 _ -
# (the alphabet Janus's entrypoint accepts).
#
#   scripts/gen-secrets.sh .env         fill every secret that is empty or missing in .env, in place;
#                                       secrets already set are kept, so it is safe to run again
#   scripts/gen-secrets.sh [NAME...]    print NAME=<secret> lines (default: all three)
#
# The secrets never appear on a command line: they are made and written by bash built-ins.
set -euo pipefail

names=(TURN_SECRET JANUS_API_SECRET JANUS_ADMIN_KEY)

secret() {
  local value
  value=$(head -c 48 /dev/urandom | base64 -w0)
  value=${value//+/-}
  value=${value//\//_}
  printf '%s' "${value//=/}"
}

if [[ $# -eq 1 && -f $1 ]]; then
  file=$1
  umask 077
  tmp=$(mktemp "$file.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  declare -A seen=()
  while IFS= read -r line || [[ -n $line ]]; do
    for name in "${names[@]}"; do
      if [[ $line == "$name=" ]]; then
        line="$name=$(secret)"
        echo "gen-secrets: set $name" >&2
      fi
      [[ $line == "$name="* ]] && seen[$name]=1
    done
    printf '%s\n' "$line"
  done <"$file" >"$tmp"
  for name in "${names[@]}"; do
    if [[ -z ${seen[$name]:-} ]]; then
      printf '%s=%s\n' "$name" "$(secret)" >>"$tmp"
      echo "gen-secrets: added $name" >&2
    fi
  done
  # The file now holds secrets: readable by its owner only (mktemp made it 0600).
  mv "$tmp" "$file"
  trap - EXIT
  exit 0
fi

(($#)) || set -- "${names[@]}"
for name in "$@"; do
  printf '%s=%s\n' "$name" "$(secret)"
done
