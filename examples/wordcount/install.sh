#!/usr/bin/env bash
# Word count, a JavaScript app: counts the words of your documents and keeps the
# counts yours.
#
#   examples/wordcount/install.sh [DATA_DIR]    (default: a new temporary data directory)
#
# The developer wc publishes the gate home:<T,wc>:count (wc's integrity facet: only wc
# may link or unlink there), public, running functions/count
# (workload.js, so the runtime is node) with privilege wc. alice stores a private
# document and counts it; the counts land in the facet home:<alice,wc> (her secrecy,
# vouched for by wc). bob may run the same gate on the same document, but what it
# finds is alice's: he is shown nothing, and cannot list where the counts are.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
example_setup "${1:-}"

for user in alice bob wc; do "$faasten" fs adduser "$user" >/dev/null 2>&1 || true; done

echo "# wc publishes the app."
expect 0 fs --as wc mkgate 'home:<T,wc>:count' --image "@$here/functions/count" --privilege wc \
  --invoker-clearance T --declassify wc --label T,wc

echo "# alice stores a document only she may read."
printf '$ faasten fs --as alice blob put %s --label alice,alice < sonnet.txt\n' "'~:sonnet.txt'"
"$faasten" fs --as alice blob put '~:sonnet.txt' --label alice,alice < "$here/sonnet.txt" >/dev/null 2>&1
echo

echo "# alice counts its words."
invoke 0 'home:<T,wc>:count' alice '{"document": "home:<alice,alice>:sonnet.txt", "top": 3}'
expect 0 fs --as alice ls 'home:<alice,wc>'

echo "# bob runs the same gate on alice's document: the result is alice's, so he is shown nothing ..."
invoke 1 'home:<T,wc>:count' bob '{"document": "home:<alice,alice>:sonnet.txt"}'
echo "# ... nor the counts the function kept."
expect 1 fs --as bob ls 'home:<alice,wc>'

echo "The word count app works. Data directory: $data"
