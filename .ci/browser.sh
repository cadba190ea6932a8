#!/usr/bin/env bash
# What tests/test_browser.py needs on a fresh Debian machine: Debian's Chromium and fonts with Vietnamese
# glyphs. Idempotent and quiet; nothing to do when /usr/bin/chromium is already there. Playwright (the
# Python package, from the test extras) drives this Chromium: never run 'playwright install'.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-core fonts-dejavu-core >/dev/null
