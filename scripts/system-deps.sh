#!/usr/bin/env bash
# Debian packages the service needs at run time, installed when missing (as root), or named.
#   fonts-wqy-zenhei: Chinese glyphs for the "仅供办理…使用" watermark on document photos.
set -euo pipefail
missing=()
for pkg in fonts-wqy-zenhei "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps.sh: please install: ${missing[*]} (Debian: apt-get install -y ${missing[*]})" >&2
  exit 0  # the service still starts; only watermarking needs the font and says so
fi
echo "system-deps.sh: installing ${missing[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
