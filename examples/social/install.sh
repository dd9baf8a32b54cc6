#!/usr/bin/env bash
# The social graph: follow and unfollow with delegated sub-principals and
# integrity-only facets.
#
#   examples/social/install.sh [DATA_DIR]    (default: a new temporary data directory)
#
# Each user installs the app in their own integrity-only facet home:<T,USER/social>:
#   followers   a faceted directory: a follower's entry lives in the facet vouched for
#               by that follower's follow function, T,FOLLOWER/social/follow
#   following   a directory labeled T,USER/social/follow
#   follow, unfollow   gates running as USER/social/follow (a delegate of USER that
#               cannot write where USER's own integrity is required), invocable only by USER
#   followers   a gate that lists anyone's followers (public data, privilege T)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
example_setup "${1:-}"

for user in alice bob carol; do
  "$faasten" fs adduser "$user" >/dev/null 2>&1 || true
  echo "# $user installs the app."
  expect 0 fs --as "$user" mkfaceted "home:<T,$user/social>:followers"
  expect 0 fs --as "$user" mkdir "home:<T,$user/social>:following" --label "T,$user/social/follow"
  for function in follow unfollow; do
    expect 0 fs --as "$user" mkgate "home:<T,$user/social>:$function" --image "@$here/functions/$function" \
      --privilege "$user/social/follow" --invoker-clearance "$user" --declassify "$user/social/follow" --label "T,$user/social"
  done
  expect 0 fs --as "$user" mkgate "home:<T,$user/social>:followers-of" --image "@$here/functions/followers" \
    --privilege T --label "T,$user/social"
done

echo "# alice and carol follow bob."
invoke 0 'home:<T,alice/social>:follow' alice '{"followee": "bob"}'
invoke 0 'home:<T,carol/social>:follow' carol '{"followee": "bob"}'
echo "# bob's followers, each vouched for by the follower's own follow function:"
invoke 0 'home:<T,bob/social>:followers-of' bob '{"user": "bob"}'
expect 0 fs --as bob facets 'home:<T,bob/social>:followers'

echo "# bob may not run alice's follow function (only alice may) ..."
invoke 1 'home:<T,alice/social>:follow' bob '{"followee": "carol"}'
echo "# ... nor forge a follower entry in alice's name: that facet needs alice/social/follow's integrity."
expect 1 fs --as bob mkfile 'home:<T,bob/social>:followers:<T,alice/social/follow>:dave' --label 'T,alice/social/follow'
echo "# The delegate alice/social/follow may write where it is required, but never where alice is:"
expect 0 fs --as alice/social/follow mkfile 'home:<T,alice/social>:following:dave' --label 'T,alice/social/follow'
expect 1 fs --as alice/social/follow mkfile 'home:<T,alice/social>:note' --label 'T,alice/social'

echo "# alice unfollows bob."
invoke 0 'home:<T,alice/social>:unfollow' alice '{"followee": "bob"}'
invoke 0 'home:<T,bob/social>:followers-of' bob '{"user": "bob"}'

echo "The social app works. Data directory: $data"
