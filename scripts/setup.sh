#!/usr/bin/env bash
# Idempotent setup: system packages, npm dependencies, the native addon, the TypeScript build and the web app.
# On a machine that is already set up it only checks timestamps and exits within a second or two.
# --browser also installs Debian's chromium (only the browser tests need it; scripts/test.sh passes it).
# --sr also installs Debian's plasma-workspace-wallpapers (94 MB), the photographs `recist3d sr train` learns
# from (docs/sr.md); only SR training and its test need them, so the demo does not download them.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=0
WITH_SR=0
for a in "$@"; do
  case "$a" in
    --browser) WITH_BROWSER=1 ;;
    --sr) WITH_SR=1 ;;
    *) echo "[setup] unknown option $a (known: --browser, --sr)" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages (libtorch CPU, OpenCV, the fast threaded OpenBLAS, and the Gloo headers that c10d's
#    ProcessGroupGloo.hpp includes: libtorch-dev does not depend on them).
APT_PACKAGES=(libtorch-dev libgloo-dev libopencv-dev libopenblas0-pthread)
if [ "$WITH_BROWSER" = 1 ]; then APT_PACKAGES+=(chromium); fi
if [ "$WITH_SR" = 1 ]; then APT_PACKAGES+=(plasma-workspace-wallpapers); fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  # another libtorch (LIBTORCH_DIR) brings its own headers, Gloo's included
  if [ -n "${LIBTORCH_DIR:-}" ] && [ "$p" = libgloo-dev ] && [ -d "$LIBTORCH_DIR/include/gloo" ]; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "${LIBTORCH_DIR:-}" ] && [ ${#missing[@]} -eq 1 ] && [ "${missing[0]}" = libtorch-dev ]; then
    log "libtorch-dev not installed; using LIBTORCH_DIR=$LIBTORCH_DIR"
  else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "[setup] missing Debian packages: ${missing[*]}. Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
      fi
    fi
    log "installing Debian packages: ${missing[*]} (apt-get update first)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# 2. npm dependencies, only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. Native addon, rebuilt when any native source or the gyp file is newer than the binary.
ADDON=build/Release/recist3d.node
if [ ! -f "$ADDON" ] || [ -n "$(find native binding.gyp -newer "$ADDON" -print -quit)" ]; then
  log "building the native addon (libtorch + OpenCV); this takes a few minutes the first time"
  npx --no-install node-gyp rebuild -j max --loglevel=warn
fi

# 4. TypeScript, rebuilt when any source is newer than the last build.
STAMP=dist/.build-stamp
if [ ! -f "$STAMP" ] || [ -n "$(find src tsconfig.json tsconfig.build.json package.json -newer "$STAMP" -print -quit)" ]; then
  log "compiling TypeScript"
  # everything but the web app, which step 5 owns
  if [ -d dist ]; then find dist -mindepth 1 -maxdepth 1 ! -name web -exec rm -rf {} +; fi
  npx --no-install tsc -p tsconfig.build.json
  chmod +x dist/cli/main.js 2>/dev/null || true
  touch "$STAMP"
fi

# 5. The web app of `recist3d serve` (vite), rebuilt when web/ or the API types it shares changed.
WEB_STAMP=dist/web/.build-stamp
if [ ! -f "$WEB_STAMP" ] || [ -n "$(find web src/serve/api-types.ts package.json -newer "$WEB_STAMP" -not -path 'web/node_modules/*' -print -quit)" ]; then
  log "building the web app (vite)"
  npx --no-install vite build --config web/vite.config.ts
  touch "$WEB_STAMP"
fi
