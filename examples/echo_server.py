#!/usr/bin/env python3
# echo_server.py: a learner's own blocking echo server, in another language, to show that the
# conformance ladder checks any server:   make check 1 SERVER="python3 examples/echo_server.py"
# It follows the workbook's conventions: --host/--port (0 = a free port), a ready line on stdout,
# logs on stderr, one line and a non-zero exit for a bad flag or a busy port.
import argparse, socket, sys

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=7777)
args = parser.parse_args()

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    listener.bind((args.host, args.port))
except OSError as error:
    sys.exit(f"echo_server.py: cannot listen on {args.host}:{args.port}: {error.strerror}")
listener.listen(128)
host, port = listener.getsockname()
print(f"listening on {host}:{port}", flush=True)

while True:
    client, peer = listener.accept()
    with client:
        try:
            while data := client.recv(65536):
                client.sendall(data)
        except OSError as error:
            print(f"client {peer}: {error}", file=sys.stderr)
