#!/usr/bin/env python3
"""A scripted SMTP peer for faults a real MTA won't make on demand.

Listens on 127.0.0.1 (a free port, written to --port-file), speaks plain
SMTP, and answers normally except where told otherwise:

  --mail CODE    reply CODE to MAIL FROM
  --rcpt CODE    reply CODE to RCPT TO
  --data CODE    reply CODE to DATA (before the message)
  --final CODE   reply CODE after the message's final dot
  --stall        after the final dot, never answer (until killed)
  --delay SECS   wait SECS after the final dot before answering (a slow MTA)
  --drop         after the final dot, close the connection without a reply
  --greet CODE   greeting code (e.g. 421)

Every line received is appended to --log (one per line, prefixed "C: ",
replies "S: "); each accepted message is saved as --save-dir/N.eml.
"""
import argparse
import os
import sys
import threading
import time

import peerlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--save-dir")
    for opt in ("mail", "rcpt", "data", "final", "greet"):
        ap.add_argument("--" + opt, type=int)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--drop", action="store_true")
    a = ap.parse_args()

    log = peerlib.logger(a.log)
    count = [0]
    lock = threading.Lock()

    def serve(conn):
        rf = conn.makefile("rb")

        def say(code, text):
            log("S: %d %s" % (code, text))
            conn.sendall(b"%d %s\r\n" % (code, text.encode()))

        try:
            say(a.greet or 220, "peer.example ESMTP scripted")
            if a.greet and a.greet >= 400:
                return
            while True:
                line = rf.readline()
                if not line:
                    return
                cmd = line.decode("latin-1").rstrip("\r\n")
                log("C: " + cmd)
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    log("S: 250 peer.example")
                    conn.sendall(b"250-peer.example\r\n250-8BITMIME\r\n250 SIZE 50000000\r\n")
                elif verb == "MAIL":
                    say(a.mail or 250, "sender" if not a.mail else "no")
                elif verb == "RCPT":
                    say(a.rcpt or 250, "recipient" if not a.rcpt else "no")
                elif verb == "DATA":
                    if a.data:
                        say(a.data, "no data")
                        continue
                    say(354, "go ahead")
                    body = []
                    while True:
                        l = rf.readline()
                        if not l:
                            return
                        if l in (b".\r\n", b".\n"):
                            break
                        body.append(l)
                    log("C: <message of %d lines>" % len(body))
                    if a.stall:
                        log("S: <stalled>")
                        while True:
                            time.sleep(3600)
                    if a.drop:
                        log("S: <dropped>")
                        return
                    if a.delay:
                        time.sleep(a.delay)
                    if a.final and a.final >= 400:
                        say(a.final, "rejected")
                        continue
                    with lock:
                        count[0] += 1
                        n = count[0]
                    if a.save_dir:
                        with open(os.path.join(a.save_dir, "%d.eml" % n), "wb") as f:
                            f.write(b"".join(body))
                    say(250, "queued as %d" % n)
                elif verb == "RSET":
                    say(250, "ok")
                elif verb == "NOOP":
                    say(250, "ok")
                elif verb == "QUIT":
                    say(221, "bye")
                    return
                else:
                    say(502, "not implemented")
        except (ConnectionError, OSError):
            return
        finally:
            conn.close()

    peerlib.serve_forever(a.port_file, serve)


if __name__ == "__main__":
    sys.exit(main())
