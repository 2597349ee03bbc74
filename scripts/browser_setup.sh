#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the page's end-to-end tests (tests/test_web.py); no browser download.
# Idempotent: returns at once when both are installed. Needs root (apt-get); without it, says so and exits 0,
# and the browser tests skip with the reason.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "browser_setup: chromium/chromedriver missing and apt-get is not usable here (need root on Debian);" \
         "the browser tests will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver; }; then
    echo "browser_setup: apt-get could not install chromium; the browser tests will be skipped" >&2
fi
