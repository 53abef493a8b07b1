#!/usr/bin/env python3
"""`siphon run` speaks systemd's notify protocol (Type=notify): READY=1 once
the apps are scheduled, WATCHDOG=1 every half WatchdogSec while the scheduler
lives, STOPPING=1 on SIGTERM; with no watchdog asked for, no pings. A socket
of this test stands in for systemd's NOTIFY_SOCKET."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SIPHON = sys.argv[1]


def messages(sock, seconds, until=None):
    """Datagrams received within `seconds`, as lists of lines; stops early
    after a datagram holding the line `until`."""
    got = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until and any(until in m for m in got)):
        sock.settimeout(max(end - time.monotonic(), 0.01))
        try:
            got.append(sock.recv(4096).decode().split("\n"))
        except socket.timeout:
            break
    return got


def run(work, watchdog_usec):
    path = os.path.join(work, "notify-%d" % watchdog_usec)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    proc = subprocess.Popen([SIPHON, "--config", os.path.join(work, "siphon.yaml"), "run"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = messages(sock, 10, until="READY=1")
        ready = [m for m in first if "READY=1" in m]
        if not ready:
            sys.exit("no READY=1 within 10 s (got %r)" % first)
        if not any(line.startswith("STATUS=") for line in ready[0]):
            sys.exit("READY=1 without STATUS=: %r" % ready[0])
        later = messages(sock, 1.5)
        pings = sum(1 for m in first + later if "WATCHDOG=1" in m)
        proc.send_signal(signal.SIGTERM)
        stopping = messages(sock, 10, until="STOPPING=1")
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    if rc != 0:
        sys.exit("siphon run exited %d: %s" % (rc, proc.stderr.read().decode()))
    if not any("STOPPING=1" in m for m in stopping):
        sys.exit("no STOPPING=1 after SIGTERM (got %r)" % stopping)
    return pings


with tempfile.TemporaryDirectory() as work:
    os.mkdir(os.path.join(work, "plugins"))
    with open(os.path.join(work, "siphon.yaml"), "w") as f:
        f.write("plugin_dirs: [plugins]\nstate: sqlite:state.db\napps: []\n")
    # WatchdogSec=0.3s: a ping every 150 ms, so at least 5 in 1.5 s.
    pings = run(work, 300000)
    if pings < 5:
        sys.exit("%d watchdog pings in 1.5 s with WATCHDOG_USEC=300000" % pings)
    pings = run(work, 0)
    if pings != 0:
        sys.exit("%d watchdog pings without a watchdog" % pings)
print("READY, WATCHDOG and STOPPING sent as systemd expects")
