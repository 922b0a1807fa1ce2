#!/usr/bin/env bash
# Installs the Debian packages that some tests need, when we are root and apt-get exists.
# Without them those tests skip with a reason, except under CI=true where they fail.
set -uo pipefail
PKGS=(fonts-noto-cjk chromium postgresql poppler-utils)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not root or no apt-get; tests needing ${missing[*]} will skip" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
