#!/usr/bin/env bash
# publish.sh is the one publish command: the Dockerfile runs it to build the image's app, and
# scripts/test.sh runs it too, so the image's build cannot rot unseen.
# Usage: scripts/publish.sh OUTPUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/publish.sh OUTPUT_DIR}
dotnet publish src/Parley.Server/Parley.Server.csproj -c Release -o "$out" -warnaserror -nologo -v:quiet
