#!/usr/bin/env bash
# E2E prerequisites (see ../shared/E2E.md): Debian packages (when missing and root), code-server 4.100.3 from npm
# in its own folder (.cache/code-server, gitignored) and playwright-core (a devDependency). Idempotent: a second
# run with everything present takes well under a second.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CS_VERSION="4.100.3"
CS_DIR="${DCLAB_CODE_SERVER_DIR:-$ROOT/.cache/code-server}"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"

need_pkgs=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v rg >/dev/null 2>&1 || need_pkgs+=(ripgrep)
if [ ! -f "$CS_BIN" ]; then
  # only needed to build code-server's native modules
  for p in build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
  done
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "e2e setup: apt-get install ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "e2e setup: missing packages ${need_pkgs[*]} (install them as root: apt-get install ${need_pkgs[*]})" >&2
    exit 1
  fi
fi

if [ ! -f "$CS_BIN" ]; then
  echo "e2e setup: installing code-server@$CS_VERSION into $CS_DIR (about 70 s)"
  mkdir -p "$CS_DIR"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  # @vscode/ripgrep looks for its archive here before downloading it
  mkdir -p "$TMP/vscode-ripgrep-cache-1.15.11"
  tar czf "$TMP/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  [ -f "$CS_DIR/package.json" ] || echo '{ "name": "dclab-e2e-code-server", "private": true }' > "$CS_DIR/package.json"
  (
    cd "$CS_DIR"
    TMPDIR="$TMP" npm_config_unsafe_perm=true npm_config_yes=true npm_config_dangerously_allow_all_scripts=true \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION"
  )
  [ -f "$CS_BIN" ] || { echo "e2e setup: code-server did not install ($CS_BIN missing)" >&2; exit 1; }
fi

if [ ! -d "$ROOT/node_modules/playwright-core" ] || [ ! -d "$ROOT/node_modules/@vscode/vsce" ]; then
  echo "e2e setup: npm ci (playwright-core / @vscode/vsce missing)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "e2e setup: ok (code-server $CS_VERSION at $CS_DIR, chromium $(command -v chromium || echo /usr/bin/chromium))"
