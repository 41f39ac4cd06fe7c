#!/usr/bin/env bash
# The Debian packages the tests need (Redis, PostgreSQL, Chromium, speech tools, fonts),
# installed when missing; does nothing when they are all there. Called by `make test`.
set -euo pipefail

# fonts: Chromium draws Korean, Thai, Khmer, Burmese, Sinhala … as empty boxes without them
packages=(redis-server postgresql chromium espeak-ng sox ffmpeg fonts-noto-core fonts-noto-cjk)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
