#!/usr/bin/env bash
# The photo management app (PMA): a thumbnail function and a time index, run on
# alice's photo with the labels doing their job.
#
#   examples/photos/install.sh [DATA_DIR]    (default: a new temporary data directory)
#
# Installs the app as the developer `pma` (gates in pma's integrity facet home:<T,pma>,
# where only pma may link or unlink; public, running with the privilege pma and
# releasing results with it), stores a photo in alice's private home, and runs both functions:
# their output lands in home:<alice,pma>, which alice can read and bob cannot.
# Pillow is vendored into the thumbnail's image when PyPI is reachable; otherwise the
# function scales PPM images in pure Python.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
example_setup "${1:-}"

vendor="$here/functions/thumbnail/package"
if [ ! -d "$vendor/PIL" ]; then
  printf '==> vendoring Pillow for the thumbnail function (from PyPI)\n' >&2
  "$here/vendor-pillow.sh" "$vendor" >&2 ||
    printf '==> Pillow could not be vendored: the thumbnail scales PPM images in pure Python\n' >&2
fi

echo "# The developer installs the app: public gates only pma may change, running as pma."
echo "# --invoker-clearance T: anyone may invoke them; --declassify pma: what pma's code reads"
echo "# of the invoker's data goes back to them, vouched for by pma."
expect 0 fs --as pma mkgate 'home:<T,pma>:thumbnail' --image "@$here/functions/thumbnail" \
  --privilege pma --invoker-clearance T --declassify pma --label T,pma --memory 256
expect 0 fs --as pma mkgate 'home:<T,pma>:timeindex' --image "@$here/functions/timeindex" \
  --privilege pma --invoker-clearance T --declassify pma --label T,pma

echo "# alice stores a photo (a 320x240 PPM) in her private home."
"$faasten" fs adduser alice >/dev/null 2>&1 || true
"$faasten" fs adduser bob >/dev/null 2>&1 || true
expect 0 fs --as alice mkdir 'home:<alice,alice>:photos' --label alice,alice
/usr/bin/python3 "$here/sample.py" > "$data/beach.ppm"
printf "$ faasten fs --as alice blob put 'home:<alice,alice>:photos:beach.ppm' --label alice,alice < beach.ppm\n"
"$faasten" fs --as alice blob put 'home:<alice,alice>:photos:beach.ppm' --label alice,alice < "$data/beach.ppm" 2>&1
echo

photo='{"photo": "home:<alice,alice>:photos:beach.ppm", "size": [64, 64]}'
echo "# alice makes a thumbnail. The app saw her photo, so its result is hers: shown to her."
invoke 0 'home:<T,pma>:thumbnail' alice "$photo"
echo "# The thumbnail is in home:<alice,pma>: alice's secrecy, vouched for by the app."
expect 0 fs --as alice ls 'home:<alice,pma>'
expect 0 fs --as alice stat 'home:<alice,pma>:beach.ppm.thumb'
echo "# bob may not read it ..."
expect 1 fs --as bob blob get 'home:<alice,pma>:beach.ppm.thumb'
echo "# ... nor get it by running the app on alice's photo himself: pma cannot declassify alice's data."
invoke 1 'home:<T,pma>:thumbnail' bob "$photo"

echo "# alice files the photo under the hour it was taken (a hard link; twice is harmless)."
when='{"photo": "home:<alice,alice>:photos:beach.ppm", "timestamp": "2024-07-14T15:30:00Z"}'
invoke 0 'home:<T,pma>:timeindex' alice "$when"
invoke 0 'home:<T,pma>:timeindex' alice "$when"
expect 0 fs --as alice ls 'home:<alice,pma>:2024:7:14:15'

echo "The photo app works. Data directory: $data"
