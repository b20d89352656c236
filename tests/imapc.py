#!/usr/bin/env python3
"""Small IMAP/SMTP client for the tests (stdlib only).

Reads the connection settings from the env file written by
tests/mailenv.sh and does one thing per run, the way a user's mail client
would see the mailbox.  Never used by the daemon itself.

  imapc.py ENVFILE [--as support|customer] [--tls|--starttls|--plain]
           [--host HOST] [--servername NAME] COMMAND ARGS...

Commands:
  append MAILBOX FILE...     APPEND each file (LF -> CRLF); prints the count
                             (--days-ago N: with an INTERNALDATE N days
                             ago)
  count MAILBOX              number of messages
  uids MAILBOX               UIDs, one per line
  fetch MAILBOX UID          raw message (BODY.PEEK[]) to stdout
  dump MAILBOX OUTDIR        every message as OUTDIR/<uid>.eml
  flags MAILBOX              "UID FLAG FLAG..." per message
  addflag MAILBOX UID FLAG   STORE +FLAGS, then check the flag stuck
  clearflag MAILBOX FLAG     UID STORE 1:* -FLAGS.SILENT (FLAG)
  list                       mailbox names, one per line
  capability                 capabilities (after login), one per line
  wait MAILBOX N TIMEOUT     poll every 0.1 s until >= N messages
  uidvalidity MAILBOX        UIDVALIDITY
  delete-all MAILBOX         flag all \\Deleted and expunge; prints the count
  create MAILBOX / delete MAILBOX
  send FROM TO[,TO...] FILE  SMTP to PQ_SMTP_PORT with STARTTLS (default),
                             --tls: PQ_SMTPS_PORT, --plain: no TLS;
                             --auth: AUTH as the --as user.  FROM "" or "<>"
                             is the null sender.

TLS always verifies against PQ_CA_FILE.  The default server name is the
host itself (127.0.0.1, matched against the IP SAN).  Errors go to stderr
with exit status 1.
"""

import argparse
import imaplib
import os
import re
import shlex
import smtplib
import socket
import ssl
import sys
import time

TIMEOUT = 30


class Fail(Exception):
    pass


def read_env(path):
    env = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith("export "):
                    line = line[7:]
                for word in shlex.split(line):
                    if "=" in word:
                        k, v = word.split("=", 1)
                        env[k] = v
    except OSError as e:
        raise Fail("cannot read env file %s: %s" % (path, e))
    for k in ("PQ_HOST", "PQ_IMAP_PORT", "PQ_IMAPS_PORT", "PQ_SMTP_PORT",
              "PQ_CA_FILE"):
        if k not in env:
            raise Fail("%s: %s missing" % (path, k))
    return env


def quote(name):
    """Mailbox name as an IMAP quoted string (ASCII names only)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def crlf(data):
    return re.sub(rb"\r?\n", b"\r\n", data)


def check(typ, data, what):
    if typ != "OK":
        msg = b" ".join(d for d in data if isinstance(d, bytes))
        raise Fail("%s failed: %s %s" % (what, typ,
                                          msg.decode("utf-8", "replace")))
    return data


class Client:
    def __init__(self, opts, env):
        self.opts = opts
        self.env = env
        self.host = opts.host or env["PQ_HOST"]
        self.sni = opts.servername or self.host
        self.ctx = ssl.create_default_context(cafile=env["PQ_CA_FILE"])
        who = opts.who.upper()
        self.user = env["PQ_%s_USER" % who]
        self.password = env["PQ_%s_PASSWORD" % who]
        self.imap = None

    def _mode(self, default):
        return self.opts.mode or default

    def connect(self):
        mode = self._mode("tls")
        if mode == "tls":
            port = int(self.env["PQ_IMAPS_PORT"])
            # IMAP4_SSL uses the host as server name; connect by hand so a
            # different name can be checked (--servername).
            im = _IMAP4_TLS(self.host, port, self.ctx, self.sni)
        else:
            port = int(self.env["PQ_IMAP_PORT"])
            im = imaplib.IMAP4(self.host, port, timeout=TIMEOUT)
            if mode == "starttls":
                if "STARTTLS" not in im.capabilities:
                    raise Fail("server does not offer STARTTLS")
                _starttls(im, self.ctx, self.sni)
        check(*im.login(self.user, self.password), what="LOGIN")
        self.imap = im
        return im

    def close(self):
        if self.imap is not None:
            try:
                self.imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            self.imap = None

    def select(self, mailbox, readonly=True):
        typ, data = self.imap.select(quote(mailbox), readonly=readonly)
        check(typ, data, "SELECT %s" % mailbox)
        return int(data[0])


class _IMAP4_TLS(imaplib.IMAP4):
    """Implicit TLS with a server name independent of the host."""

    def __init__(self, host, port, ctx, sni):
        self._pq_ctx = ctx
        self._pq_sni = sni
        super().__init__(host, port, timeout=TIMEOUT)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        return self._pq_ctx.wrap_socket(sock, server_hostname=self._pq_sni)


def _starttls(im, ctx, sni):
    """imaplib's starttls() uses the host as server name; do it by hand."""
    typ, dat = im._simple_command("STARTTLS")
    check(typ, dat, "STARTTLS")
    im.sock = ctx.wrap_socket(im.sock, server_hostname=sni)
    im.file = im.sock.makefile("rb")
    im._tls_established = True
    im._get_capabilities()


def parse_fetch(data):
    """imaplib FETCH data -> list of (uid, flags or None, body or None)."""
    out = []
    for item in data:
        if isinstance(item, tuple):
            head, body = item[0], item[1]
        elif isinstance(item, bytes):
            head, body = item, None
        else:
            continue
        m = re.search(rb"UID (\d+)", head)
        if not m:
            continue
        f = re.search(rb"FLAGS \(([^)]*)\)", head)
        flags = f.group(1).decode().split() if f else None
        out.append((int(m.group(1)), flags, body))
    return out


def uid_fetch(c, items):
    typ, data = c.imap.uid("FETCH", "1:*", items)
    check(typ, data, "UID FETCH")
    return parse_fetch(data)


# ------------------------------------------------------------ commands

DAYS_AGO = None


def cmd_append(c, args):
    date = None
    if DAYS_AGO is not None:
        # INTERNALDATE in the past, as for mail that waited on the server
        date = imaplib.Time2Internaldate(time.time() - DAYS_AGO * 86400)
    if len(args) < 2:
        raise Fail("usage: [--days-ago N] append MAILBOX FILE...")
    mailbox, files = args[0], args[1:]
    n = 0
    for path in files:
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
        except OSError as e:
            raise Fail("cannot read %s: %s" % (path, e))
        check(*c.imap.append(quote(mailbox), None, date, crlf(data)),
              what="APPEND %s" % path)
        n += 1
    print(n)


def cmd_count(c, args):
    need(args, 1, "count MAILBOX")
    print(c.select(args[0]))


def cmd_uids(c, args):
    need(args, 1, "uids MAILBOX")
    c.select(args[0])
    typ, data = c.imap.uid("SEARCH", "ALL")
    check(typ, data, "UID SEARCH")
    for u in sorted(int(x) for x in b" ".join(data).split()):
        print(u)


def cmd_fetch(c, args):
    need(args, 2, "fetch MAILBOX UID")
    c.select(args[0])
    uid = args[1]
    if not uid.isdigit():
        raise Fail("bad UID %r" % uid)
    typ, data = c.imap.uid("FETCH", uid, "(BODY.PEEK[])")
    check(typ, data, "UID FETCH")
    for u, _, body in parse_fetch(data):
        if u == int(uid) and body is not None:
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
            return
    raise Fail("no message with UID %s in %s" % (uid, args[0]))


def cmd_dump(c, args):
    need(args, 2, "dump MAILBOX OUTDIR")
    n = c.select(args[0])
    os.makedirs(args[1], exist_ok=True)
    if n == 0:
        return
    for uid, _, body in uid_fetch(c, "(UID BODY.PEEK[])"):
        if body is None:
            continue
        with open(os.path.join(args[1], "%d.eml" % uid), "wb") as f:
            f.write(body)


def cmd_flags(c, args):
    need(args, 1, "flags MAILBOX")
    if c.select(args[0]) == 0:
        return
    seen = {}
    for uid, flags, _ in uid_fetch(c, "(UID FLAGS)"):
        if flags is not None:
            seen[uid] = flags
    for uid in sorted(seen):
        print(" ".join([str(uid)] + seen[uid]))


def cmd_addflag(c, args):
    need(args, 3, "addflag MAILBOX UID FLAG")
    mailbox, uid, flag = args
    c.select(mailbox, readonly=False)
    typ, data = c.imap.uid("STORE", uid, "+FLAGS", "(%s)" % flag)
    check(typ, data, "UID STORE")
    typ, data = c.imap.uid("FETCH", uid, "(FLAGS)")
    check(typ, data, "UID FETCH")
    for u, flags, _ in parse_fetch(data):
        if u == int(uid) and flags is not None:
            if flag.lower() not in (f.lower() for f in flags):
                raise Fail("flag %s did not stick (flags: %s)" %
                           (flag, " ".join(flags)))
            return
    raise Fail("no message with UID %s in %s" % (uid, mailbox))


def cmd_clearflag(c, args):
    need(args, 2, "clearflag MAILBOX FLAG")
    mailbox, flag = args
    if c.select(mailbox, readonly=False):
        check(*c.imap.uid("STORE", "1:*", "-FLAGS.SILENT", "(%s)" % flag),
              what="UID STORE")


def cmd_list(c, args):
    need(args, 0, "list")
    typ, data = c.imap.list()
    check(typ, data, "LIST")
    for line in data:
        if not isinstance(line, bytes):
            continue
        m = re.match(rb'\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$', line)
        if not m:
            continue
        name = m.group(3).decode("utf-8", "replace")
        if name.startswith('"') and name.endswith('"'):
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        print(name)


def cmd_capability(c, args):
    need(args, 0, "capability")
    typ, data = c.imap.capability()
    check(typ, data, "CAPABILITY")
    caps = b" ".join(d for d in data if isinstance(d, bytes)).split()
    for cap in dict.fromkeys(c.decode() for c in caps):
        print(cap)


def cmd_wait(c, args):
    need(args, 3, "wait MAILBOX N TIMEOUT_SECONDS")
    mailbox = args[0]
    try:
        n, timeout = int(args[1]), float(args[2])
    except ValueError:
        raise Fail("usage: wait MAILBOX N TIMEOUT_SECONDS")
    deadline = time.monotonic() + timeout
    have = 0
    while True:
        # A fresh EXAMINE each round: Dovecot syncs the Maildir and
        # reports the current EXISTS.  A mailbox that does not exist yet
        # counts as empty.
        typ, data = c.imap.select(quote(mailbox), readonly=True)
        have = int(data[0]) if typ == "OK" else 0
        if have >= n:
            return
        if time.monotonic() >= deadline:
            raise Fail("timeout after %gs: %s has %d message(s), wanted %d"
                       % (timeout, mailbox, have, n))
        time.sleep(0.1)


def cmd_uidvalidity(c, args):
    need(args, 1, "uidvalidity MAILBOX")
    typ, data = c.imap.status(quote(args[0]), "(UIDVALIDITY)")
    check(typ, data, "STATUS")
    m = re.search(rb"UIDVALIDITY (\d+)", b" ".join(
        d for d in data if isinstance(d, bytes)))
    if not m:
        raise Fail("no UIDVALIDITY in STATUS reply")
    print(int(m.group(1)))


def cmd_delete_all(c, args):
    need(args, 1, "delete-all MAILBOX")
    n = c.select(args[0], readonly=False)
    if n:
        check(*c.imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)"),
              what="STORE")
        check(*c.imap.expunge(), what="EXPUNGE")
    print(n)


def cmd_create(c, args):
    need(args, 1, "create MAILBOX")
    check(*c.imap.create(quote(args[0])), what="CREATE")


def cmd_delete(c, args):
    need(args, 1, "delete MAILBOX")
    check(*c.imap.delete(quote(args[0])), what="DELETE")


def cmd_send(opts, env, args):
    need(args, 3, "send FROM TO[,TO...] FILE")
    sender, rcpts, path = args
    if sender in ("<>",):
        sender = ""
    to = [r.strip() for r in rcpts.split(",") if r.strip()]
    if not to:
        raise Fail("no recipient")
    try:
        with open(path, "rb") if path != "-" else sys.stdin.buffer as f:
            data = crlf(f.read())
    except OSError as e:
        raise Fail("cannot read %s: %s" % (path, e))
    host = opts.host or env["PQ_HOST"]
    sni = opts.servername or host
    ctx = ssl.create_default_context(cafile=env["PQ_CA_FILE"])
    mode = opts.mode or "starttls"
    if mode == "tls":
        s = _SMTP_TLS(host, int(env["PQ_SMTPS_PORT"]), ctx, sni)
    else:
        s = smtplib.SMTP(host, int(env["PQ_SMTP_PORT"]), timeout=TIMEOUT)
    try:
        s.ehlo("peakq-test.example.test")
        if mode == "starttls":
            if not s.has_extn("starttls"):
                raise Fail("server does not offer STARTTLS")
            # smtplib.starttls() takes the server name from the host.
            s._host = sni
            s.starttls(context=ctx)
            s.ehlo("peakq-test.example.test")
        if opts.auth:
            who = opts.who.upper()
            s.login(env["PQ_%s_USER" % who], env["PQ_%s_PASSWORD" % who])
        refused = s.sendmail(sender, to, data)
        if refused:
            raise Fail("recipients refused: %r" % refused)
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()


class _SMTP_TLS(smtplib.SMTP_SSL):
    def __init__(self, host, port, ctx, sni):
        self._pq_sni = sni
        super().__init__(host, port, context=ctx, timeout=TIMEOUT)

    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((host, port), timeout,
                                        self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._pq_sni)


def need(args, n, usage):
    if len(args) != n:
        raise Fail("usage: %s" % usage)


COMMANDS = {
    "append": cmd_append,
    "count": cmd_count,
    "uids": cmd_uids,
    "fetch": cmd_fetch,
    "dump": cmd_dump,
    "flags": cmd_flags,
    "addflag": cmd_addflag,
    "clearflag": cmd_clearflag,
    "list": cmd_list,
    "capability": cmd_capability,
    "wait": cmd_wait,
    "uidvalidity": cmd_uidvalidity,
    "delete-all": cmd_delete_all,
    "create": cmd_create,
    "delete": cmd_delete,
}


def main(argv):
    p = argparse.ArgumentParser(
        prog="imapc.py", description="IMAP/SMTP client for peakq tests",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("envfile")
    p.add_argument("--as", dest="who", choices=("support", "customer"),
                   default="support")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tls", dest="mode", action="store_const", const="tls")
    g.add_argument("--starttls", dest="mode", action="store_const",
                   const="starttls")
    g.add_argument("--plain", dest="mode", action="store_const",
                   const="plain")
    p.add_argument("--host", help="connect here instead of PQ_HOST")
    p.add_argument("--servername",
                   help="name to verify in the certificate (default: host)")
    p.add_argument("--auth", action="store_true",
                   help="send: AUTH as the --as user")
    p.add_argument("command", choices=sorted(list(COMMANDS) + ["send"]))
    p.add_argument("args", nargs="*")
    p.add_argument("--days-ago", type=float, default=None,
                   help="append: INTERNALDATE this many days ago")
    opts = p.parse_args(argv)
    global DAYS_AGO
    DAYS_AGO = opts.days_ago

    try:
        env = read_env(opts.envfile)
        if opts.command == "send":
            cmd_send(opts, env, opts.args)
            return 0
        c = Client(opts, env)
        try:
            c.connect()
            COMMANDS[opts.command](c, opts.args)
        finally:
            c.close()
    except Fail as e:
        print("imapc: %s" % e, file=sys.stderr)
        return 1
    except ssl.SSLError as e:
        print("imapc: TLS error: %s" % e, file=sys.stderr)
        return 1
    except (imaplib.IMAP4.error, smtplib.SMTPException) as e:
        print("imapc: protocol error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("imapc: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
