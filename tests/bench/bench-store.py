#!/usr/bin/env python3
"""bench-store: costs stay flat as the season grows (issue 9, 4).

For each store size (BENCH_STORE_SIZES, default "10000 500000" cases):

  1. peakqd creates an empty store; tests/season.py fills it with that many
     cases of a past season (their messages, events and acknowledgements)
     and the full-text index gets words for every message. The season's
     unresolved cases are then resolved except the newest OPEN (2,000), and
     the failed acknowledgements expired except the newest FAILED (200):
     both stores hold the same work in hand (what peakq list and peakq
     outbox show in full), only the history differs.
  2. NEW (2,000) messages of bench mail (as bench-drain writes) go into the
     support INBOX, on the real Dovecot and Postfix on loopback; peakqd
     ingests them: every case committed and its server copy flagged, in
     messages per second. Twice, with new messages; the faster counts.
     Each round's daemon sends its acknowledgements before it stops, so
     that none are left to go out during the next round.
  3. The commands agents and supervisors run, each the best of 7 runs
     (wall clock, process start included): peakq list --limit 50, list
     --category complaint, next (each run claims a case), show, search
     for an order number, report --since today (the NEW cases), status,
     outbox.

The smallest size is the baseline; each figure of a bigger store is given
as a ratio to it. Target: every ratio <= 1.5.

  tests/bench/bench-store.py [BUILDDIR]
"""
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import benchlib
from benchlib import SRC

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
SIZES = [int(x) for x in os.environ.get("BENCH_STORE_SIZES", "10000 500000").split()]
NEW = int(os.environ.get("BENCH_STORE_NEW", "2000"))
OPEN = 2000
FAILED = 200
WORDS = ("order parcel gift christmas tracking arrived refund return broken "
         "missing wrong size colour daughter son present delivery courier "
         "包裹 礼物 快递 退货 退款 破损 圣诞").split()


def fill(db_path, n, seed):
    """The season's cases, then search words and the queue in hand."""
    subprocess.run(["python3", os.path.join(SRC, "tests", "season.py"), "gen", db_path,
                    str(n), str(seed), db_path + ".expected.json"], check=True)
    rnd = random.Random(seed)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    ids = [r[0] for r in db.execute("SELECT id FROM message")]
    db.executemany("INSERT INTO search(rowid, who, subject, body) VALUES(?, ?, ?, ?)",
                   ((2 * i, "c%d example net" % i, "where is my order",
                     " ".join(rnd.choice(WORDS) for _ in range(40))) for i in ids))
    db.execute("UPDATE cases SET status = 'resolved', resolved_at ="
               " coalesce(first_reply_at, created_at) + 3600 WHERE status != 'resolved'"
               " AND id NOT IN (SELECT id FROM cases WHERE status != 'resolved'"
               " ORDER BY id DESC LIMIT ?)", (OPEN,))
    # Likewise the acknowledgements that need a look (peakq outbox lists
    # every one): the newest FAILED stay failed, older ones expired.
    db.execute("UPDATE outbox SET state = 'expired' WHERE state IN ('pending',"
               " 'temp_fail', 'failed', 'uncertain') AND id NOT IN (SELECT id"
               " FROM outbox WHERE state IN ('pending', 'temp_fail', 'failed',"
               " 'uncertain') ORDER BY id DESC LIMIT ?)", (FAILED,))
    db.commit()
    db.close()
    # A season's store is on disk, not 600 MB of dirty pages the kernel
    # is still writing back: without this, the daemon's first checkpoint
    # fsync waited for all of it, inside the timed ingestion.
    os.sync()


def best(cmd, runs=7, env=None):
    """Best wall-clock seconds of runs of cmd (its output discarded)."""
    t = None
    for _ in range(runs):
        a = time.monotonic()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        d = time.monotonic() - a
        if r.returncode not in (0, 1):
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-300:]))
        t = d if t is None else min(t, d)
    return t


IO = []  # (bytes read, bytes written) by peakqd in each ingestion run


def ingest(srv, y, db_path, want):
    """Start peakqd; seconds until want new messages are stored and
    flagged. Polled by rowid past the store's last message: a count over
    the whole message table, every 50 ms, would scan the big store in this
    process on the same two cores, and time that."""
    log = open(os.path.join(srv.T, "daemon.log"), "a")
    db = sqlite3.connect(db_path, timeout=10)
    (last,) = db.execute("SELECT coalesce(max(id), 0) FROM message").fetchone()
    db.close()
    t0 = time.monotonic()
    d = subprocess.Popen([os.path.join(BUILD, "peakqd"), "-c", y, "--log=stderr"],
                         stdout=log, stderr=log)
    db = sqlite3.connect(db_path, timeout=10)
    took = None
    try:
        while time.monotonic() - t0 < 600:
            time.sleep(0.05)
            try:
                done = benchlib.stored_flagged(db, last)[1]
            except sqlite3.Error:
                continue
            if done >= want:
                took = time.monotonic() - t0
                try:  # what peakqd read and wrote: page reads and writes
                    io = dict(l.split(": ") for l in open("/proc/%d/io" % d.pid).read().split("\n") if l)
                    IO.append((int(io["rchar"]), int(io["wchar"])))
                except OSError:
                    pass
                break
        # Let it send the acknowledgements before it stops: left queued,
        # they would go out during the next round's ingestion, and time
        # that instead of the store.
        t1 = time.monotonic()
        while took is not None and time.monotonic() - t1 < 120:
            try:
                (left,) = db.execute("SELECT count(*) FROM outbox WHERE state IN"
                                     " ('pending', 'sending', 'temp_fail')").fetchone()
            except sqlite3.Error:
                left = 1
            if left <= FAILED:
                break
            time.sleep(0.2)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(60)
        db.close()
    if took is None:
        raise RuntimeError("peakqd did not ingest %d messages in 600 s" % want)
    return took


def measure(srv, size, seed):
    T = srv.T
    db_path = os.path.join(T, "store-%d.db" % size)
    y0 = srv.config(srv.env["PQ_SMTP_PORT"])
    y = os.path.join(T, "peakq-%d.yaml" % size)
    open(y, "w").write(re.sub(r"(?m)^store: .*$", "store: " + db_path, open(y0).read()))
    subprocess.run(srv.imapc + ["delete-all", "INBOX"], check=True, stdout=subprocess.DEVNULL)
    # peakqd creates the store (nothing to fetch yet), the season goes in.
    subprocess.run([os.path.join(BUILD, "peakqd"), "-c", y, "--once", "--log=stderr"],
                   check=True, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    fill(db_path, size, seed)
    db = sqlite3.connect(db_path)
    cases, msgs, events = (db.execute("SELECT count(*) FROM " + t).fetchone()[0]
                           for t in ("cases", "message", "event"))
    db.close()
    print("store of %d cases: %d messages, %d events, %.0f MB (filled in %.0f s)"
          % (cases, msgs, events, os.path.getsize(db_path) / 1e6, time.monotonic() - t0),
          flush=True)
    # Two rounds of NEW messages, the faster counts (the first run on a
    # cold cache is slower, whatever the store's size).
    rates = []
    for r in range(2):
        subprocess.run(srv.imapc + ["delete-all", "INBOX"], check=True,
                       stdout=subprocess.DEVNULL)
        srv.fill_inbox(NEW, random.Random(seed + r), first=size + r * NEW)
        rates.append(NEW / ingest(srv, y, db_path, NEW))
    fig = {"ingest": max(rates)}
    print("  ingestion: %s msg/s (the faster counts)" % " and ".join("%.0f" % r for r in rates),
          flush=True)
    if len(IO) >= 2:
        (r1, w1), (r2, w2) = IO[-2], IO[-1]
        print("  peakqd read %.0f KB and wrote %.0f KB a message (two runs: %.0f/%.0f, %.0f/%.0f)"
              % ((r1 + r2) / 2 / NEW / 1024, (w1 + w2) / 2 / NEW / 1024,
                 r1 / NEW / 1024, w1 / NEW / 1024, r2 / NEW / 1024, w2 / NEW / 1024), flush=True)

    q = [os.path.join(BUILD, "peakq"), "-c", y]
    env = dict(os.environ, PEAKQ_AGENT="mei", NO_COLOR="1")
    db = sqlite3.connect(db_path)
    (recent,) = db.execute("SELECT max(id) FROM cases").fetchone()
    (order,) = db.execute("SELECT order_id FROM cases WHERE order_id IS NOT NULL"
                          " ORDER BY id DESC LIMIT 1").fetchone()
    db.close()
    today = time.strftime("%Y-%m-%d")
    cmds = [
        ("list --limit 50", ["list", "--limit", "50"]),
        ("list --category complaint --limit 50", ["list", "--category", "complaint", "--limit", "50"]),
        ("next", ["next"]),
        ("show CASE", ["show", str(recent)]),
        ("search ORDER-ID", ["search", order]),
        ("report --since today", ["report", "--since", today]),
        ("status", ["status"]),
        ("outbox", ["outbox"]),
    ]
    for name, args in cmds:
        fig[name] = best(q + args, env=env)
    return fig


def main():
    srv = benchlib.Servers("pq-store.")
    try:
        rc = srv.start("bench-store")
        if rc:
            return rc
        res = {}
        for k, size in enumerate(SIZES):
            res[size] = measure(srv, size, 11 + k)
        base = SIZES[0]
        print()
        print("command: tests/bench/bench-store.py %s   (sizes %s; %d new messages; %d open cases)"
              % (BUILD, " ".join(map(str, SIZES)), NEW, OPEN))
        head = "%-46s" % "" + "".join("%14s" % ("%d cases" % s) for s in SIZES) + \
            "".join("%10s" % ("x%dk" % (s // 1000)) for s in SIZES[1:])
        print(head)
        worst = 0
        for name in res[base]:
            unit = "msg/s" if name == "ingest" else "ms"
            row = "%-46s" % (("ingestion (%s)" % unit) if name == "ingest" else "peakq " + name + " (ms)")
            for s in SIZES:
                v = res[s][name]
                row += "%14.1f" % (v if name == "ingest" else v * 1000)
            for s in SIZES[1:]:
                # slower is worse: time ratio, or rate ratio inverted
                r = res[base][name] / res[s][name] if name == "ingest" else res[s][name] / res[base][name]
                worst = max(worst, r)
                row += "%10.2f" % r
            print(row)
        print("cost ratios (bigger store / %d cases; for ingestion, rate at %d / rate at the bigger): worst %.2f (target <= 1.5): %s"
              % (base, base, worst, "ok" if worst <= 1.5 else "MISSED"))
        return 0
    finally:
        srv.close()


if __name__ == "__main__":
    sys.exit(main())
