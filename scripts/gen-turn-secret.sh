#!/usr/bin/env bash
# gen-turn-secret.sh prints a TURN_SECRET line with 384 random bits, for .env:
#   scripts/gen-turn-secret.sh >> .env
# Kept for existing instructions; scripts/gen-secrets.sh makes every secret (and fills .env in place).
set -euo pipefail
exec "$(dirname "$0")/gen-secrets.sh" TURN_SECRET
