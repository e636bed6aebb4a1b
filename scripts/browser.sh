#!/usr/bin/env bash
# Debian's headless Chromium and its WebDriver, for the review page's browser tests
# (tests/page/). Quick when both are installed already; installed with apt-get otherwise.
#
# Debian's packages are used because a browser build downloaded at run time (Playwright's,
# Selenium Manager's) is not reachable from the project's machines, while Debian's packages are.
set -euo pipefail

say() { echo "browser: $*"; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  say "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) and chromedriver are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  say "chromium and chromium-driver are missing and cannot be installed here (needs root and apt-get)."
  say "Install Debian's chromium and chromium-driver packages; the review page's browser tests fail without them."
  exit 1
fi
say "installing Debian's chromium and chromium-driver packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-dejavu-core >/dev/null
say "$(/usr/bin/chromium --version)"
