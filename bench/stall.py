#!/usr/bin/env python3
"""A client that signs on and then never reads: the stalled client of the
benchmarks (tavern-load has no such option).

usage: stall.py HOST PORT PROTOCOL READY_FILE STOP_FILE [MAX_SECONDS]

PROTOCOL is telnet (tavern), irc (ngircd) or raw (the line broadcasters).
After signing on it writes READY_FILE, stops reading, and waits for
STOP_FILE (or MAX_SECONDS, default 900). Then it drains what the kernel
holds for it and prints one JSON line: whether the server had disconnected
it ("kicked") and how many bytes it read after the stall.
"""

import json
import os
import select
import socket
import sys
import time


def main() -> int:
    host, port, protocol, ready_file, stop_file = sys.argv[1:6]
    max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 900.0
    deadline = time.monotonic() + max_seconds
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive buffer so that the server notices the stall early.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((host, int(port)))
    got = b""

    def wait_for(*needles: bytes) -> bytes:
        nonlocal got
        end = time.monotonic() + 30
        while time.monotonic() < end:
            for needle in needles:
                at = got.find(needle)
                if at >= 0:
                    got = got[at + len(needle):]
                    return needle
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit(f"stall.py: closed during sign-on: {got[-200:]!r}")
            if protocol == "irc":
                for line in chunk.split(b"\r\n"):
                    if line.startswith(b"PING "):
                        s.sendall(b"PONG " + line[5:] + b"\r\n")
            got = (got + chunk)[-65536:]
        raise SystemExit(f"stall.py: sign-on timed out waiting for {needles!r}")

    if protocol == "telnet":
        wait_for(b"Nickname:")
        s.sendall(b"stall\r\n")
        wait_for(b"Welcome,")
    elif protocol == "irc":
        s.sendall(b"NICK stall\r\nUSER stall 0 * :stalled\r\n")
        wait_for(b" 001 ")
        s.sendall(b"JOIN #load\r\n")
        wait_for(b" 366 ")
    else:
        wait_for(b"ready\n")
    with open(ready_file, "w") as f:
        f.write("ready\n")
    print("stall.py: signed on; not reading from now on", file=sys.stderr)

    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        time.sleep(0.1)

    # Drain: a server that disconnected us ends with EOF or a reset once the
    # bytes it had already sent are read; one that did not leaves the socket
    # open with nothing more to read.
    kicked = False
    drained = 0
    s.setblocking(False)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        ready, _, _ = select.select([s], [], [], 1.0)
        if not ready:
            break
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            kicked = True
            break
        except BlockingIOError:
            continue
        if not chunk:
            kicked = True
            break
        drained += len(chunk)
    s.close()
    print(json.dumps({"stall_kicked": kicked, "stall_drained_bytes": drained}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
