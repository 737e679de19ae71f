#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for the app and its tests, then the npm packages.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=12)?0:1)'; then
  echo "Node.js 20.12 or newer is required (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# chromium for the browser tests; ceph for the local S3 engine (a Ceph RADOS Gateway).
missing=()
for pkg in chromium radosgw ceph-mon ceph-osd ceph-common; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm install, not npm ci: the lockfile holds only this platform's optional packages.
npm install --no-audit --no-fund

if [ ! -f .env ]; then
  cp .env.example .env
  echo "Created .env from .env.example (local defaults, works offline)."
fi
