#!/bin/sh
# Fill the image build context of sample2-app from the host, so `docker build` needs no network:
#   wheels/   every wheel of requirements.txt (pinned, transitive included), for CPython 3.11 on
#             manylinux x86_64/aarch64, installed offline in the image (`pip install --no-index`)
# Usage: sh prepare-image.sh [CONTEXT]   (CONTEXT defaults to this folder; run from anywhere)
# Idempotent and cached in ${XDG_CACHE_HOME:-~/.cache}/platform-verify/apps/ by the requirements'
# checksum: a second run needs no registry.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
context=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
python_version=3.11
cache="${PLATFORM_VERIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-verify}/apps/sample2-app"
req_sum=$(sha256sum "$here/requirements.txt" | cut -c1-16)
wheels="$cache/wheels-$(uname -m)-$req_sum"
pip="${PYTHON:-python3} -m pip"

if [ ! -f "$wheels/.complete" ]; then
  rm -rf "$wheels" && mkdir -p "$wheels"
  # Binary wheels only, for the image's interpreter (CPython 3.11, glibc), whatever the host runs.
  $pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --implementation cp --python-version "$python_version" --abi "cp${python_version%.*}${python_version#*.}" \
    --platform "manylinux2014_$(uname -m)" --platform "manylinux_2_17_$(uname -m)" --platform any \
    -d "$wheels" -r "$here/requirements.txt"
  touch "$wheels/.complete"
fi

rm -rf "$context/wheels" && mkdir -p "$context/wheels"
cp "$wheels"/*.whl "$context/wheels/"
if [ "$context" != "$here" ]; then
  for item in Dockerfile .dockerignore requirements.txt sample2_app; do
    [ -e "$context/$item" ] || cp -R "$here/$item" "$context/$item"
  done
fi
echo "sample2-app build context ready: $context ($(ls "$context/wheels" | wc -l) wheels, requirements $req_sum)"
