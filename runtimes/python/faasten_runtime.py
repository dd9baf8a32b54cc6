"""Faasten's Python guest runtime: the process a sandbox runs.

It speaks the CloudCall protocol on the channel descriptor (FAASTEN_CHANNEL_FD),
loads the function from /srv (workload.py, with vendored packages in /srv/package),
and serves one invocation after another. Started as
`python3 -I -S -B /opt/faasten/python/faasten_runtime.py`.
"""
import sys

sys.path[:0] = ["/opt/faasten/python", "/srv", "/srv/package"]

from faasten._runtime import main  # noqa: E402

main()
