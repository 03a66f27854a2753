#!/usr/bin/env bash
#===- scripts/packages.sh - Install missing Debian packages --------------===#
#
# Sourced by the scripts that need system packages:
#   ensure_packages TAG PKG...
# installs the PKGs that are not installed yet (running `apt-get update`
# first), as root or through sudo, and does nothing when all are present.
#
#===----------------------------------------------------------------------===#

ensure_packages() {
  local tag=$1
  shift
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  echo "$tag: installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}
