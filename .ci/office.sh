#!/usr/bin/env bash
# What the plan-format tests need on a fresh Debian machine: LibreOffice without its GUI (to read .doc and
# .xls, and to make the .doc/.pdf fixtures from a .docx) and poppler's tools. Idempotent and quiet; nothing
# to do when soffice and pdftoppm are already there. The tests skip, saying why, without them.
set -euo pipefail

if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils fonts-dejavu-core >/dev/null
