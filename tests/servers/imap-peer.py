#!/usr/bin/env python3
"""A scripted IMAP peer for faults a real server won't make on demand.

Listens on 127.0.0.1 (a free port, written to --port-file) in plain text
and logs every line it receives to --log ("C: ...").

  --no-starttls   advertise IMAP4rev1 without STARTTLS and answer
                  STARTTLS with BAD (a downgrade by a man in the middle);
                  LOGIN is answered NO, but it must never be sent.
  --stall         send the greeting, then never answer anything
"""
import argparse
import sys

import peerlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--no-starttls", action="store_true")
    ap.add_argument("--stall", action="store_true")
    a = ap.parse_args()

    log = peerlib.logger(a.log)

    def serve(conn):
        rf = conn.makefile("rb")
        caps = "IMAP4rev1 AUTH=PLAIN"
        try:
            conn.sendall(b"* OK [CAPABILITY %s] scripted peer\r\n" % caps.encode())
            while True:
                line = rf.readline()
                if not line:
                    return
                text = line.decode("latin-1").rstrip("\r\n")
                log("C: " + text)
                if a.stall:
                    continue
                parts = text.split(" ", 2)
                if len(parts) < 2:
                    continue
                tag, cmd = parts[0], parts[1].upper()
                if cmd == "CAPABILITY":
                    conn.sendall(b"* CAPABILITY %s\r\n%s OK done\r\n" % (caps.encode(), tag.encode()))
                elif cmd == "STARTTLS":
                    conn.sendall(b"%s BAD not supported\r\n" % tag.encode())
                elif cmd == "LOGOUT":
                    conn.sendall(b"* BYE\r\n%s OK bye\r\n" % tag.encode())
                    return
                else:
                    conn.sendall(b"%s NO refused\r\n" % tag.encode())
        except OSError:
            return
        finally:
            conn.close()

    peerlib.serve_forever(a.port_file, serve)


if __name__ == "__main__":
    sys.exit(main())
