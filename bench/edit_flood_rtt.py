#!/usr/bin/env python3
"""bench/edit_flood_rtt.py: another user's chat round trip while clients flood
line-editing controls (issue 14, part 3).

Starts the tavern binary given (default target/release/tavern) on 127.0.0.1
port 0, signs on FLOODERS clients that ask for server-side editing (IAC DO
ECHO) and then send, as fast as the server takes it, a 3,900-character line
and then `x` + DEL pairs (`--kind del`) or ^L (`--kind ff`) for at most
--seconds, reading and discarding what comes back; a watcher signs on and
times 100 of its own lines coming back from the room. Prints p50/p90/p99/max
in ms. Stops the server it started by its PID. Every loop is bounded.

    bench/edit_flood_rtt.py [--bin PATH] [--floods N] [--kind del|ff]
"""
import argparse, os, re, signal, socket, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/tavern")
ap.add_argument("--floods", type=int, default=2)
ap.add_argument("--kind", choices=["del", "ff"], default="del")
ap.add_argument("--seconds", type=float, default=30)
args = ap.parse_args()

env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TAVERN_")}
env.update(TAVERN_LISTEN="127.0.0.1:0", TAVERN_FLOOD_LINES_PER_SEC="0",
           TAVERN_CONNECT_RATE_PER_IP_PER_MINUTE="0", TAVERN_NEGOTIATION_WAIT_MS="300",
           RUST_LOG="warn")
stop = threading.Event()


def start():
    """The server and its address; a key an older build lacks (it refuses
    to start naming it) is left out and the start tried again."""
    for _ in range(len(env)):
        errors = tempfile.TemporaryFile()
        server = subprocess.Popen([args.bin], env=env, stdout=subprocess.PIPE,
                                  stderr=errors, text=True)
        # `tavern listening on ADDR`; builds before issue 14 logged
        # `listening addr=ADDR` on stdout instead.
        for _ in range(50):
            line = re.sub(r"\x1b\[[0-9;]*m", "", server.stdout.readline())
            m = re.search(r"(?:tavern listening on |listening addr=)(\S+):(\d+)", line)
            if m or not line:
                break
        if m:
            return server, (m.group(1), int(m.group(2)))
        server.wait(timeout=10)
        errors.seek(0)
        error = errors.read().decode(errors="replace")
        unknown = re.search(r"environment variable (TAVERN_\w+)", error)
        if not unknown or unknown.group(1) not in env:
            sys.exit("tavern did not say where it listens: " + error)
        del env[unknown.group(1)]
    sys.exit("tavern did not start")


server, addr = start()
try:
    threading.Thread(target=lambda: server.stdout.read(), daemon=True).start()

    def drain(s):
        s.settimeout(0.5)
        while not stop.is_set():
            try:
                if not s.recv(65536):
                    return
            except socket.timeout:
                pass
            except OSError:
                return

    def flooder(i):
        s = socket.create_connection(addr)
        s.sendall(b"\xff\xfd\x01")  # DO ECHO: server-side editing
        s.sendall(b"flood%d\r\n" % i)
        # Signed on before the flood: the editing under test is a signed-on
        # user's (sign-on bytes go through another path).
        s.settimeout(10)
        seen = b""
        welcome = b"flood%d" % i
        deadline = time.time() + 10
        while b"Welcome, " not in seen or welcome not in seen.split(b"Welcome, ", 1)[1]:
            if time.time() > deadline:
                return
            seen += re.sub(rb"\x1b\[[0-9;]*m", b"", s.recv(65536))
        threading.Thread(target=drain, args=(s,), daemon=True).start()
        unit = b"x\x7f" * 4096 if args.kind == "del" else b"\x0c" * 8192
        end = time.time() + args.seconds
        try:
            s.sendall(b"y" * 3900)
            while not stop.is_set() and time.time() < end:
                s.sendall(unit)
        except OSError:
            pass

    for i in range(args.floods):
        threading.Thread(target=flooder, args=(i,), daemon=True).start()
    watcher = socket.create_connection(addr)
    watcher.settimeout(5)
    buf = b""

    def wait_for(token, within):
        global buf
        deadline = time.time() + within
        while token not in buf:
            if time.time() > deadline:
                raise TimeoutError(token)
            buf += re.sub(rb"\x1b\[[0-9;]*m", b"", watcher.recv(65536))
        buf = buf[buf.index(token) + len(token):]

    watcher.sendall(b"watcher\r\n")
    wait_for(b"Welcome, watcher", 10)
    time.sleep(2)  # the floods under way
    rtts = []
    for n in range(100):
        token = b"ping%03d" % n
        t0 = time.perf_counter()
        watcher.sendall(token + b"\r\n")
        wait_for(b"watcher: " + token, 20)
        rtts.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    rtts.sort()
    print(f"floods={args.floods} kind={args.kind} round trip ms: p50={rtts[50]:.2f} "
          f"p90={rtts[90]:.2f} p99={rtts[98]:.2f} max={rtts[-1]:.2f}")
finally:
    stop.set()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
