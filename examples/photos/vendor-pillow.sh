#!/usr/bin/env bash
# vendor-pillow.sh DIR: unpacks the Pillow wheel for the sandbox's Python (Debian's
# /usr/bin/python3) and this machine's architecture into DIR, from PyPI.
set -euo pipefail
target="$1"
version="$(/usr/bin/python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')"
machine="$(uname -m)"
pip=()
for python in /usr/bin/python3 python3; do
  if "$python" -m pip --version >/dev/null 2>&1; then pip=("$python" -m pip); break; fi
done
if [ ${#pip[@]} = 0 ]; then
  echo "no pip found (install it with: sudo apt-get install -y python3-pip)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"${pip[@]}" download --quiet --only-binary=:all: --no-deps --dest "$work" \
  --python-version "$version" --implementation cp --abi "cp$version" \
  --platform "manylinux_2_28_$machine" --platform "manylinux2014_$machine" pillow
mkdir -p "$work/unpacked"
/usr/bin/python3 -m zipfile -e "$work"/pillow-*.whl "$work/unpacked"
rm -rf "$target"
mv "$work/unpacked" "$target"
echo "vendored $(basename "$work"/pillow-*.whl) into $target" >&2
