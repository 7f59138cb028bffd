#!/usr/bin/env bash
# Make sure a headless Chromium and its driver are installed for the human-study browser test
# (tests/human/test_browser.py, driven by selenium): on Debian/Ubuntu as root, install the packages
# chromium and chromium-driver; otherwise say how (the test then skips, saying why).
set -u
if command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || command -v google-chrome >/dev/null; }; then
  exit 0
fi
if [ -r /etc/debian_version ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "Chromium not found: installing the Debian packages chromium and chromium-driver (for the browser test)"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y chromium chromium-driver || { apt-get update && apt-get install -y chromium chromium-driver; }) >/dev/null
    exit $?
  fi
  echo "Chromium not found: run 'sudo apt-get install chromium chromium-driver' so the browser test runs"
else
  echo "Chromium not found: install Chromium and its chromedriver so the browser test runs (it skips without them)"
fi
exit 0
