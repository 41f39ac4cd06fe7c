#!/usr/bin/env bash
# The Debian packages the tests need (Redis, PostgreSQL, Chromium, speech tools, fonts),
# installed when missing; does nothing when they are all there. Called by `make test`.
# Where they cannot be installed (no apt-get, no root and no usable sudo) it says so in one line
# and exits 1; COUNSEL_SKIP_SYSTEM_PACKAGES=1 skips it (their equivalents installed by hand).
set -euo pipefail

[ "${COUNSEL_SKIP_SYSTEM_PACKAGES:-}" = "1" ] && exit 0

# fonts: Chromium draws Korean, Thai, Khmer, Burmese, Sinhala … as empty boxes without them
packages=(redis-server postgresql chromium espeak-ng sox ffmpeg fonts-noto-core fonts-noto-cjk)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cannot() {
  echo "The tests need these packages: ${missing[*]}. $1" \
       "(COUNSEL_SKIP_SYSTEM_PACKAGES=1 skips this check.)" >&2
  exit 1
}
command -v apt-get >/dev/null \
  || cannot "This machine has no apt-get (not Debian or Ubuntu): install them with its package manager."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null \
    || cannot "Run as root, or install sudo: apt-get install -y ${missing[*]}"
  SUDO="sudo"
  if ! sudo -n true 2>/dev/null && ! [ -t 0 ]; then
    cannot "sudo needs a password and there is no terminal to ask it: run sudo apt-get install -y ${missing[*]}"
  fi
fi
echo "Installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq || cannot "apt-get update failed (above)."
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  || cannot "apt-get install failed (above)."
