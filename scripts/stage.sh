#!/usr/bin/env bash
# stage.sh N: what `make stage N` runs. Builds stage N, starts v0.N-server on a free port, waits for its
# ready line, runs `v0.N-client --demo` against it, prints both sides, stops the server.
# From v0.5 the server gets --max-connections 3, so that the demo can show a connection refused (busy).
# From v0.6 also --idle-timeout 1s and --frame-timeout 1s (the demo waits for both), and after the demo
# a graceful stop: `v0.N-client --pipeline 200` sends 200 frames, the server gets SIGTERM, the client
# counts its replies until end of stream, and the server's exit status is shown.
# From v0.7 also --io-threads 2 --workers 2: the demo starts with a slow request on one connection.
# Exits 0 only if the client says every echo was right.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/stage.sh N}
v="v0.$n"
swift build --quiet --product "$v-server"
swift build --quiet --product "$v-client"
bin=.build/debug

# The server's stdout (where its ready line goes) comes back through the coprocess pipe. Its log
# (stderr) goes to a file, shown after the client's output: two programs printing at once would
# interleave their lines in whatever order the scheduler picks.
server_flags=(--port 0)
if (( n >= 5 )); then server_flags+=(--max-connections 3); fi
if (( n >= 6 )); then server_flags+=(--idle-timeout 1s --frame-timeout 1s); fi
if (( n >= 7 )); then server_flags+=(--io-threads 2 --workers 2); fi
log=$(mktemp)
echo "server | \$ $v-server ${server_flags[*]}"
coproc SERVER { exec "$bin/$v-server" "${server_flags[@]}" 2>"$log"; }
server_pid=$SERVER_PID
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap 'stop_server; rm -f "$log"' EXIT

ready=""
while read -r -t 15 -u "${SERVER[0]}" line; do
    echo "server | $line"
    if [[ $line == "listening on "* ]]; then ready=$line; break; fi
done
if [[ -z $ready ]]; then
    echo "make stage $n: $v-server printed no 'listening on HOST:PORT' line within 15 s" >&2
    sed 's/^/server | /' "$log" >&2
    exit 1
fi
port=${ready##*:}

echo "client | \$ $v-client --port $port --demo"
status=0
"$bin/$v-client" --port "$port" --demo 2>&1 | sed 's/^/client | /' || status=$?
if (( n >= 6 && status == 0 )); then
    echo "client | \$ $v-client --port $port --pipeline 200      (and SIGTERM to the server once they are sent)"
    pipelog=$(mktemp)
    "$bin/$v-client" --port "$port" --pipeline 200 >"$pipelog" 2>&1 &
    pipeline_pid=$!
    for _ in $(seq 150); do grep -q '^sent ' "$pipelog" && break; sleep 0.1; done   # its frames are out
    kill -TERM "$server_pid"
    wait "$pipeline_pid" || status=$?
    sed 's/^/client | /' "$pipelog"
    rm -f "$pipelog"
    server_status=0
    wait "$server_pid" || server_status=$?
    echo "server | (exit status $server_status)"
    (( server_status == 0 )) || status=1
fi
stop_server
sed 's/^/server | /' "$log"
if [[ $status -eq 0 ]]; then
    echo "make stage $n: the demo's replies were all correct"
else
    echo "make stage $n: the demo FAILED (client exit status $status)" >&2
fi
exit "$status"
