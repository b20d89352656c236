#!/usr/bin/env python3
"""bench-latency: APPEND -> acknowledgement accepted by the MTA, with IDLE.

Starts the real Dovecot and Postfix on loopback (tests/mailenv.sh), runs
peakqd with poll_interval 1h (so only IDLE can explain a fast answer), and
APPENDs N messages (default 200, BENCH_LATENCY_N) to the support INBOX at
random intervals (uniform 0.05-0.8 s). Each message has its own sender and
Message-ID.

The MTA's side: peakqd's SMTP goes through a transparent loopback proxy in
front of Postfix that notes, for each acknowledgement (found by its
In-Reply-To), the moment Postfix's "250 ... queued as" reply passes. The
latency of a message is that moment minus the moment just before its APPEND
was sent (so it includes the APPEND itself).

Baseline, same run, same mailbox: a plain IDLE client (Python, on its own
connection) notes when Dovecot tells it about each new message (the
"* N EXISTS"). That is the floor for any IDLE client on this server:
Dovecot waits NOTIFY_DELAY_MSECS (500 ms, a constant in its
mailbox-watch.c) after the file-system event before it tells IDLE
clients, coalescing changes; a client whose timer is already running (the
baseline's, when appends come close together) hears sooner. peakqd's
extra is DONE + SELECT + fetch + parse + classify + commit + flag + SMTP.

  tests/bench/bench-latency.py [BUILDDIR]
Target (issue 7/9): p95 < 1 s, p50 < 100 ms.
"""
import os
import random
import re
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import benchlib
from benchlib import SRC

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
N = int(os.environ.get("BENCH_LATENCY_N", "200"))


class Proxy(threading.Thread):
    """SMTP pass-through; records when each ack's DATA is accepted."""

    def __init__(self, upstream_port):
        super().__init__(daemon=True)
        self.up = upstream_port
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.accepted = {}  # original Message-ID -> time
        self.lock = threading.Lock()

    def run(self):
        while True:
            c, _ = self.srv.accept()
            threading.Thread(target=self.pipe, args=(c,), daemon=True).start()

    def pipe(self, c):
        s = socket.create_connection(("127.0.0.1", self.up))
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ, "client")
        sel.register(s, selectors.EVENT_READ, "server")
        cbuf, in_data, waiting = b"", False, []
        cur = None
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                now = time.monotonic()
                if not data:
                    c.close()
                    s.close()
                    return
                if key.data == "client":
                    s.sendall(data)
                    cbuf += data
                    while b"\n" in cbuf:
                        line, cbuf = cbuf.split(b"\n", 1)
                        if not in_data:
                            if line.upper().startswith(b"DATA"):
                                in_data, cur = True, None
                            continue
                        if line.rstrip(b"\r") == b".":
                            in_data = False
                            waiting.append(cur)
                            continue
                        m = re.match(rb"(?i)in-reply-to:\s*<([^>]+)>", line)
                        if m and cur is None:
                            cur = m.group(1).decode()
                else:
                    c.sendall(data)
                    for line in data.split(b"\r\n"):
                        if line.startswith(b"250") and b"queued as" in line and waiting:
                            mid = waiting.pop(0)
                            if mid:
                                with self.lock:
                                    self.accepted.setdefault(mid, now)


class Idler(threading.Thread):
    """The baseline: a bare IDLE client noting each EXISTS."""

    def __init__(self, env):
        super().__init__(daemon=True)
        ctx = ssl.create_default_context(cafile=env["PQ_CA_FILE"])
        self.sock = ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", int(env["PQ_IMAPS_PORT"]))),
            server_hostname="127.0.0.1")
        self.f = self.sock.makefile("rb")
        self.f.readline()
        self.cmd(b"a LOGIN %s %s" % (env["PQ_SUPPORT_USER"].encode(),
                                     env["PQ_SUPPORT_PASSWORD"].encode()))
        self.exists0 = 0
        for line in self.cmd(b"b SELECT INBOX"):
            m = re.match(rb"\* (\d+) EXISTS", line)
            if m:
                self.exists0 = int(m.group(1))
        self.seen = {}  # message number -> time

    def cmd(self, line):
        self.sock.sendall(line + b"\r\n")
        tag = line.split(b" ")[0]
        out = []
        while True:
            r = self.f.readline()
            out.append(r)
            if r.startswith(tag + b" "):
                return out

    def run(self):
        self.sock.sendall(b"c IDLE\r\n")
        while True:
            line = self.f.readline()
            if not line:
                return
            now = time.monotonic()
            m = re.match(rb"\* (\d+) EXISTS", line)
            if m:
                n = int(m.group(1))
                for k in range(self.exists0 + 1, n + 1):
                    self.seen.setdefault(k, now)
                self.exists0 = max(self.exists0, n)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    import imaplib

    srv = benchlib.Servers("pq-lat.")
    daemon = None
    try:
        rc = srv.start("bench-latency")
        if rc:
            return rc
        T, env = srv.T, srv.env
        proxy = Proxy(int(env["PQ_SMTP_PORT"]))
        proxy.start()
        y = srv.config(proxy.port, poll_interval="1h")
        log = open(os.path.join(T, "daemon.log"), "w")
        daemon = subprocess.Popen([os.path.join(BUILD, "peakqd"), "-c", y, "--log=stderr"],
                                  stdout=log, stderr=log)
        # Ready when the mailbox is idling.
        for _ in range(200):
            st = subprocess.run([os.path.join(BUILD, "peakq"), "-c", y, "status"],
                                capture_output=True, text=True)
            if re.search(r"INBOX +idling", st.stdout):
                break
            time.sleep(0.1)
        else:
            print("bench-latency: peakqd never reached IDLE")
            return 1
        idler = Idler(env)
        idler.start()

        body = open(os.path.join(SRC, "tests", "data", "holiday", "01-late-en.eml"), "rb").read()
        body = re.sub(rb"(?im)^(message-id|from|subject):.*\r?\n", b"", body)
        ctx = ssl.create_default_context(cafile=env["PQ_CA_FILE"])
        im = imaplib.IMAP4_SSL("127.0.0.1", int(env["PQ_IMAPS_PORT"]), ssl_context=ctx)
        im.login(env["PQ_SUPPORT_USER"], env["PQ_SUPPORT_PASSWORD"])
        rnd = random.Random(7)
        sent = {}  # message-id -> (seq number, t0)
        base = idler.exists0
        print("appending %d messages at random intervals (0.05-0.8 s) ..." % N, flush=True)
        for i in range(N):
            mid = "bench-%d-%d@buyer.example" % (os.getpid(), i)
            msg = (b"Message-ID: <%s>\r\nFrom: Buyer %d <buyer%d@buyer.example>\r\n"
                   b"Subject: Where is my order? (%d)\r\n" % (mid.encode(), i, i, i)) + \
                body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            time.sleep(rnd.uniform(0.05, 0.8))
            t0 = time.monotonic()
            im.append("INBOX", None, None, msg)
            sent[mid] = (base + i + 1, t0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with proxy.lock:
                if len(proxy.accepted) >= N:
                    break
            time.sleep(0.2)
        im.logout()
        lat, base_lat, extra, missing = [], [], [], 0
        for mid, (seq, t0) in sent.items():
            with proxy.lock:
                t1 = proxy.accepted.get(mid)
            if t1 is None:
                missing += 1
            else:
                lat.append(t1 - t0)
            if seq in idler.seen:
                base_lat.append(idler.seen[seq] - t0)
                if t1 is not None:
                    extra.append(t1 - idler.seen[seq])
        if not lat or not base_lat:
            print("bench-latency: no acknowledgement measured")
            return 1
        ms = lambda x: "%.1f ms" % (x * 1000)
        print("command: tests/bench/bench-latency.py %s   (N=%d)" % (BUILD, N))
        print("%-44s %10s %10s %10s" % ("", "p50", "p95", "max"))
        print("%-44s %10s %10s %10s" % ("baseline: APPEND -> EXISTS at an IDLE client",
                                        ms(pct(base_lat, 50)), ms(pct(base_lat, 95)), ms(max(base_lat))))
        print("%-44s %10s %10s %10s" % ("peakqd: APPEND -> ack accepted by Postfix",
                                        ms(pct(lat, 50)), ms(pct(lat, 95)), ms(max(lat))))
        print("%-44s %10s %10s %10s" % ("difference, message by message",
                                        ms(pct(extra, 50)), ms(pct(extra, 95)), ms(max(extra))))
        print("acks measured: %d of %d (missing %d); peakqd p50 is %.1fx the baseline's, "
              "p95 %.1fx" % (len(lat), N, missing, pct(lat, 50) / pct(base_lat, 50),
                             pct(lat, 95) / pct(base_lat, 95)))
        good = missing == 0 and pct(lat, 95) < 1.0 and pct(lat, 50) < 0.1
        print("targets p95 < 1 s, p50 < 100 ms: %s" % ("met" if good else "NOT met"))
        return 0
    finally:
        if daemon:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        srv.close()


if __name__ == "__main__":
    sys.exit(main())
