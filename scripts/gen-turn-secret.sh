#!/usr/bin/env bash
# gen-turn-secret.sh prints a TURN_SECRET line with 384 random bits, for .env:
#   scripts/gen-turn-secret.sh >> .env
set -euo pipefail
printf 'TURN_SECRET=%s\n' "$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
