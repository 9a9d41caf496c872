#!/bin/sh
# Breather's container entrypoint (the image runs it as `breather-entrypoint`); it works the same
# on a plain host.
#
#   breather-entrypoint [serve [OPTIONS]]  apply migrations, then become `breather serve` on
#                                          $BREATHER_HOST:$BREATHER_PORT (default 0.0.0.0:3000)
#   breather-entrypoint healthcheck        exit 0 when /healthz answers 200 (the HEALTHCHECK)
#   breather-entrypoint COMMAND [ARGS]     any other breather command, e.g. `purge` or
#                                          `digest --team billing`
#
# `exec` makes Breather the container's main process, so `docker stop` (SIGTERM) reaches
# uvicorn, which finishes the requests under way and stops the workers cleanly.
set -eu

host="${BREATHER_HOST:-0.0.0.0}"
port="${BREATHER_PORT:-3000}"

case "${1:-serve}" in
serve)
    if [ "$#" -gt 0 ]; then shift; fi
    # One readable line and exit 1 when the database cannot be reached or the settings are
    # wrong; the container's restart policy (or systemd's Restart=) tries again.
    breather db upgrade
    exec breather serve --host "$host" --port "$port" "$@"
    ;;
healthcheck)
    exec python3 - "$port" <<'PY'
import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=4) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except Exception as error:  # refused, timed out, or 503 (database unreachable)
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
*)
    exec breather "$@"
    ;;
esac
