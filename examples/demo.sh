#!/usr/bin/env bash
# `make demo`: a real sync of examples/directory.json into a local scim2-server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORK=$(mktemp -d)
# the demo's config and state are kept here afterwards, to copy as a start (out/ is not committed)
KEEP=out/demo
mkdir -p "$KEEP" && rm -f "$KEEP"/state.db*
export SYNCER_DEMO_TOKEN="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

"$BIN/python" -m tests.support.scim_server --port 0 --port-file "$WORK/url" --token-env SYNCER_DEMO_TOKEN \
    2>"$WORK/server.log" &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$WORK/url" ] && break; sleep 0.1; done
[ -s "$WORK/url" ] || { echo "the SCIM server did not start:"; cat "$WORK/server.log"; exit 1; }
URL=$(cat "$WORK/url")

cat > "$KEEP/config.yaml" <<YAML
state: sqlite:///state.db
jobs:
  - name: demo
    source: {type: file, path: $PWD/examples/directory.json}
    target:
      url: $URL
      token: \${SYNCER_DEMO_TOKEN}
    mapping: asana                    # the preset shipped with syncer: mappings/asana.yaml
YAML

syncer() { "$BIN/syncer" -c "$KEEP/config.yaml" "$@"; }
echo "== SCIM server (scim2-server) listening on $URL"
echo "== syncer validate";        syncer validate
echo "== syncer test-connection"; syncer test-connection
echo "== syncer plan";            syncer plan
echo "== syncer sync (initial cycle)"; syncer sync
echo "== what the server now holds"
"$BIN/python" -m tests.support.show_target "$URL"
echo "== syncer sync (incremental cycle: nothing changed, so nothing is sent)"; syncer sync
echo "== stopping the SCIM server"
echo "== the demo's config is kept in $KEEP/config.yaml: copy it to start your own (syncer init writes one too)"
