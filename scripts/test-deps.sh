#!/usr/bin/env bash
# Debian packages that only the tests need (not the product, not the demo): the independent DICOM validators
# dciodvfy (dicom3tools), pydicom with numpy and Pillow (JPEG 2000), and dcmtk, whose encoders make the
# compressed test series (JPEG Lossless, JPEG-LS, RLE). Installed only when missing.
set -euo pipefail

TEST_APT_PACKAGES=(dicom3tools dcmtk python3-pydicom python3-numpy python3-pil)
missing=()
for p in "${TEST_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "[test] missing Debian packages for the DICOM tests: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}" >&2
    exit 0 # the DICOM tests then fail with the same advice; the others still run
  fi
fi
echo "[test] installing Debian packages for the DICOM tests: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
