#!/usr/bin/env bash
# make run: kep's main job on a machine with no token — the demo PKI in a
# software token (made once), the agent, and the demo portal.
set -euo pipefail
KEP=${KEP:-bin/kep}
DIR=${KEP_DEMO_DIR:-"${XDG_CONFIG_HOME:-$HOME/.config}/kep/demo"}
PORTAL_PORT=${PORTAL_PORT:-8090}
AGENT_PORT=${AGENT_PORT:-24321}

if [ ! -f "$DIR/demo.json" ]; then
	"$KEP" demo init "$DIR" --crl-url "http://127.0.0.1:$PORTAL_PORT/demo/ca.crl"
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM

"$KEP" agent --port "$AGENT_PORT" --soft "$DIR/token" --trust "$DIR/ca.pem" &
pids+=($!)
"$KEP" demo --port "$PORTAL_PORT" --agent-port "$AGENT_PORT" --dir "$DIR" &
pids+=($!)

sleep 1
cat <<MSG

  kep demo is running:
    portal  http://localhost:$PORTAL_PORT/
    agent   http://127.0.0.1:$AGENT_PORT/  (confirmation pages open in your browser;
            with no desktop — SSH, a container — kep prints their address here)
    demo PIN: 12345678   (demo PKI: $DIR)
  Press Ctrl+C to stop.

MSG
command -v xdg-open >/dev/null 2>&1 && xdg-open "http://localhost:$PORTAL_PORT/" >/dev/null 2>&1 || true
wait -n "${pids[@]}"
