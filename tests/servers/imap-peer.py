#!/usr/bin/env python3
"""A scripted IMAP peer for faults a real server won't make on demand.

Listens on 127.0.0.1 (a free port, written to --port-file) in plain text
and logs every line it receives to --log ("C: ...").

  --no-starttls   advertise IMAP4rev1 without STARTTLS and answer
                  STARTTLS with BAD (a downgrade by a man in the middle);
                  LOGIN is answered NO, but it must never be sent.
  --stall         send the greeting, then never answer anything
  --stall-fetch   a working server with one message (UID 1) in INBOX,
                  until the message's body is fetched: then it sends
                  the first 100 bytes of the literal and stalls forever
  --tls CERT,KEY  implicit TLS with this certificate (e.g. an expired one);
                  logs "S: handshake failed" when the client refuses it
  --starttls-inject
                  offer STARTTLS; answer it with "OK begin TLS" plus an
                  injected untagged line in the same packet (CVE-2020-15953)
                  and then do the handshake
  --fetch-fault F the same server, failing the body FETCH with F:
                  stall (as --stall-fetch), drop (close the connection
                  inside the literal), malformed (a response that is not
                  IMAP), huge (announce a 4 GiB literal, send 100 bytes,
                  stall)
"""
import argparse
import os
import socket
import sys
import time

import peerlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--no-starttls", action="store_true")
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--stall-fetch", action="store_true")
    ap.add_argument("--fetch-fault", choices=("stall", "drop", "malformed", "huge"))
    ap.add_argument("--tls")
    ap.add_argument("--starttls-inject", action="store_true")
    a = ap.parse_args()
    if a.stall_fetch:
        a.fetch_fault = "stall"
    a.stall_fetch = a.fetch_fault is not None

    log = peerlib.logger(a.log)

    ctx = None
    if a.tls or a.starttls_inject:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if a.tls:
            cert, key = a.tls.split(",")
        else:
            d = os.path.dirname(os.path.abspath(a.port_file))
            cert, key = os.path.join(d, "m/tls/server.crt"), os.path.join(d, "m/tls/server.key")
        ctx.load_cert_chain(cert, key)

    def serve(conn):
        if a.tls:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except OSError as e:
                log("S: handshake failed: %s" % e)
                conn.close()
                return
        rf = conn.makefile("rb")
        caps = "IMAP4rev1 AUTH=PLAIN"
        if a.starttls_inject:
            caps = "IMAP4rev1 STARTTLS LOGINDISABLED"
        if a.stall_fetch:
            caps = "IMAP4rev1 IDLE UIDPLUS"
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
                rest = parts[2].upper() if len(parts) > 2 else ""
                if a.stall_fetch and cmd in ("LOGIN", "NOOP"):
                    conn.sendall(b"%s OK done\r\n" % tag.encode())
                    continue
                if a.stall_fetch and cmd in ("SELECT", "EXAMINE"):
                    conn.sendall(b"* 1 EXISTS\r\n* 0 RECENT\r\n"
                                 b"* OK [UIDVALIDITY 7] ok\r\n"
                                 b"* OK [UIDNEXT 2] ok\r\n"
                                 b"* FLAGS (\\Seen \\Deleted)\r\n"
                                 b"* OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] ok\r\n"
                                 b"%s OK [READ-WRITE] selected\r\n" % tag.encode())
                    continue
                if a.stall_fetch and cmd == "UID" and rest.startswith("SEARCH"):
                    conn.sendall(b"* SEARCH 1\r\n%s OK done\r\n" % tag.encode())
                    continue
                if a.stall_fetch and cmd == "UID" and rest.startswith("FETCH"):
                    if "BODY" not in rest:
                        conn.sendall(b"* 1 FETCH (UID 1 RFC822.SIZE 500)\r\n"
                                     b"%s OK done\r\n" % tag.encode())
                        continue
                    head = (b'* 1 FETCH (UID 1 RFC822.SIZE 500 '
                            b'INTERNALDATE "01-Dec-2026 10:00:00 +0000" ')
                    if a.fetch_fault == "malformed":
                        conn.sendall(b"* 1 FETCH (UID 1 BODY[] ((( \x00\xff garbage\r\n"
                                     b"%s OK done\r\n" % tag.encode())
                        log("S: sent a malformed FETCH response")
                        continue
                    size = b"{4294967295}" if a.fetch_fault == "huge" else b"{500}"
                    conn.sendall(head + b"BODY[] " + size + b"\r\n" + b"X" * 100)
                    if a.fetch_fault == "drop":
                        log("S: closed the connection inside the literal")
                        conn.shutdown(socket.SHUT_RDWR)
                        conn.close()
                        return
                    log("S: stalled inside the literal")
                    while True:
                        time.sleep(3600)
                if a.starttls_inject and cmd == "STARTTLS":
                    conn.sendall(b"%s OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"
                                 % tag.encode())
                    log("S: injected a line after OK begin TLS")
                    try:
                        conn = ctx.wrap_socket(conn, server_side=True)
                        rf = conn.makefile("rb")
                    except OSError as e:
                        log("S: handshake failed: %s" % e)
                        return
                    continue
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
