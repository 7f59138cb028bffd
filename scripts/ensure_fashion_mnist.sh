#!/usr/bin/env bash
# Make sure Fashion-MNIST can be found: on Debian/Ubuntu as root, install the package
# dataset-fashion-mnist; otherwise say how (ganbench also tries torchvision's download).
set -u
ganbench=${1:-ganbench}
if "$ganbench" datasets --json | grep -A2 '"name": "fashion-mnist"' | grep -q '"found": true'; then
  exit 0
fi
if [ -r /etc/debian_version ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "Fashion-MNIST not found: installing the Debian package dataset-fashion-mnist"
    (apt-get install -y dataset-fashion-mnist || { apt-get update && apt-get install -y dataset-fashion-mnist; }) >/dev/null
    exit $?
  fi
  echo "Fashion-MNIST not found: run 'sudo apt-get install dataset-fashion-mnist' (or ganbench will try to download it)"
else
  echo "Fashion-MNIST not found: ganbench will try to download it on first use (or pass --data-root)"
fi
exit 0
