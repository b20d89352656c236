#!/usr/bin/env python3
"""A simulated holiday season for `peakq report`.

  season.py gen DB N SEED EXPECTED.json   fill DB (a store peakqd created,
                                          schema 4) with N cases over six
                                          weeks and write the figures the
                                          report must show, computed here
                                          from the generated records
  season.py check REPORT.json EXPECTED.json RULES-DIR
                                          compare; print each difference

Time zone: the TZ environment variable (the report's days and hours are
local). Patterns: volume grows through December to a peak in the days
after Christmas and decays in January; customers write mostly mid-morning
and in the evening; agents claim, answer, resolve, escalate; customers
write again and reopen cases.
"""
import datetime as dt
import glob
import json
import math
import os
import random
import re
import sqlite3
import sys
import time
from zoneinfo import ZoneInfo

TZ = ZoneInfo(os.environ.get("TZ", "UTC"))
START = dt.datetime(2025, 12, 1, tzinfo=TZ)
DAYS = 42
CATS = [  # name, weight, rule, priority, sla hours
    ("late_delivery", 30, "late-delivery", "high", 4),
    ("lost_package", 12, "lost-package", "high", 4),
    ("wrong_item", 10, "wrong-item", "high", 6),
    ("missing_item", 8, "missing-item", "high", 6),
    ("damaged", 9, "damaged", "normal", 8),
    ("gift_options", 8, "gift-options", "normal", 8),
    ("return_exchange", 12, "return-exchange", "low", 24),
    ("complaint", 4, "complaint", "urgent", 2),
    ("general", 7, "general", "normal", 24),
]
AGENTS = ["mei", "raj", "anna", "li.wei", "tom", "sofia", "kenji", "zara"]
SUPPRESS = ["auto-reply", "bounce", "list", "rate-limit"]
ESC_REASONS = ["by rule complaint", "Threatens a chargeback",
               "Third wrong item this month", "VIP customer",
               "Asked for a manager"]


def day_weight(d):
    date = START + dt.timedelta(days=d)
    peak = dt.datetime(2025, 12, 27, tzinfo=TZ)
    x = (date - peak).days
    return 1.0 + 6.0 * math.exp(-(x / 5.0) ** 2) + (0.8 if x < 0 else 0.3)


HOUR_W = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.5, 2.5, 3.0, 2.6,
          2.0, 1.8, 1.7, 1.6, 1.5, 1.5, 1.8, 2.4, 2.9, 2.7, 1.6, 0.7]


def gen(db_path, n, seed, expected_path):
    rnd = random.Random(seed)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("INSERT OR IGNORE INTO mailbox(account, name, uidvalidity) "
               "VALUES('support', 'INBOX', 1)")
    (mbid,) = db.execute("SELECT id FROM mailbox WHERE account = 'support'"
                         " AND name = 'INBOX'").fetchone()
    now = int(time.time())
    dw = [day_weight(d) for d in range(DAYS)]
    cw = [c[1] for c in CATS]
    cases, msgs, outbox, events = [], [], [], []
    recs = []
    uid = 0
    for cid in range(1, n + 1):
        d = rnd.choices(range(DAYS), dw)[0]
        h = rnd.choices(range(24), HOUR_W)[0]
        local = START + dt.timedelta(days=d, hours=h,
                                     seconds=rnd.randrange(3600))
        created = int(local.timestamp())
        cat, _, rule, prio, sla = CATS[rnd.choices(range(len(CATS)), cw)[0]]
        lang = "zh" if rnd.random() < 0.35 else "en"
        due = created + sla * 3600
        r = dict(id=cid, created=created, due=due, cat=cat, rule=rule,
                 prio=prio, lang=lang, tmpl=cat, status="new",
                 assignee=None, claimed=None, reply=None, resolved=None,
                 acked=None, ack_state=None, ack_reason=None,
                 escalated=0, reopened=0, reply_tmpl=None, msgs=[created])
        ev = [(cid, created, "peakqd", "created", "category=" + cat)]
        # acknowledgement
        u = rnd.random()
        if u < 0.05:
            r["ack_state"], r["ack_reason"] = "suppressed", rnd.choice(SUPPRESS)
        elif u < 0.07:
            r["ack_state"] = "failed"
        elif u < 0.08:
            r["ack_state"] = "expired"
        else:
            r["ack_state"] = "sent"
            r["acked"] = created + rnd.randint(1, 30)
        # agents
        if rnd.random() < 0.9:
            r["assignee"] = rnd.choice(AGENTS)
            r["claimed"] = created + int(rnd.expovariate(1 / 2400))
            r["status"] = "open"
            ev.append((cid, r["claimed"], r["assignee"], "claimed", None))
            if rnd.random() < 0.85:
                r["reply"] = r["claimed"] + int(rnd.expovariate(1 / 3600))
                r["status"] = "pending"
                ev.append((cid, r["reply"], r["assignee"], "status",
                           "open -> pending"))
                if rnd.random() < 0.6:
                    r["reply_tmpl"] = "replies/" + cat
                    ev.append((cid, r["reply"], r["assignee"], "replied",
                               r["reply_tmpl"]))
                if rnd.random() < 0.8:
                    r["resolved"] = r["reply"] + int(
                        rnd.expovariate(1 / 86400))
                    r["status"] = "resolved"
                    ev.append((cid, r["resolved"], r["assignee"], "status",
                               "pending -> resolved"))
        # escalations (complaints by rule; others by agents)
        if cat == "complaint" or rnd.random() < 0.03:
            r["escalated"] = 1
            reason = "by rule complaint" if cat == "complaint" else \
                rnd.choice(ESC_REASONS[1:])
            ev.append((cid, created + 60, "peakqd" if cat == "complaint"
                       else (r["assignee"] or "sup"), "escalated", reason))
        # follow-ups: some before the first reply, some after
        k = 0
        while rnd.random() < 0.28 and k < 5:
            k += 1
            base = r["reply"] or (created + 6 * 3600)
            t = created + rnd.randint(60, max(61, 2 * (base - created)))
            r["msgs"].append(t)
        # a customer reopening a resolved case
        if r["status"] == "resolved" and rnd.random() < 0.05:
            t = r["resolved"] + rnd.randint(3600, 3 * 86400)
            r["msgs"].append(t)
            r["reopened"] = 1
            r["status"] = "open"
            r["resolved"] = None
            ev.append((cid, t, "peakqd", "reopened", "customer wrote again"))
        recs.append(r)
        cases.append((cid, r["status"], cat, prio, rule, r["tmpl"],
                      r["escalated"], sla, due, "c%d@example.net" % cid,
                      "%03d-%07d-%07d" % (cid % 1000, cid, cid), "Subject",
                      lang, r["assignee"], mbid, created, r["acked"],
                      r["reply"], r["resolved"], max([created] + r["msgs"])))
        for t in sorted(r["msgs"]):
            uid += 1
            msgs.append((cid, mbid, 1, uid, "m%d@example.net" % uid,
                         "c%d@example.net" % cid, "Subject", t, t, lang,
                         "text", b"raw", 3))
        outbox.append((cid, "ack", "ack:%d" % cid, "c%d@example.net" % cid,
                       r["ack_state"], r["ack_reason"], created,
                       r["acked"]))
        events.extend(ev)
    db.executemany(
        "INSERT INTO cases(id, status, category, priority, rule, template,"
        " escalated, sla_hours, due_at, customer, order_id, subject, lang,"
        " assignee, mailbox_id, created_at, acked_at, first_reply_at,"
        " resolved_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        "?,?,?)", cases)
    db.executemany(
        "INSERT INTO message(case_id, mailbox_id, uidvalidity, uid,"
        " message_id, from_addr, subject, received_at, ingested_at, lang,"
        " text, raw, raw_size, imap_done) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
        msgs)
    db.executemany(
        "INSERT INTO outbox(case_id, kind, dedupe_key, rcpt, state, reason,"
        " created_at, sent_at) VALUES(?,?,?,?,?,?,?,?)", outbox)
    db.executemany("INSERT INTO event(case_id, at, actor, kind, detail)"
                   " VALUES(?,?,?,?,?)", events)
    db.commit()
    db.close()
    with open(expected_path, "w") as f:
        json.dump({"generated_before": now, "cases": recs}, f)


def q(vals, permille):
    if not vals:
        return None
    v = sorted(vals)
    k = -(-permille * len(v) // 1000)
    return v[min(max(k, 1), len(v)) - 1]


def figures(recs, now):
    """The report's group figures for a list of case records."""
    g = dict(cases=len(recs), messages=0, followups=0,
             followups_before_reply=0, escalated=0, reopened=0, resolved=0,
             sla_met=0, sla_breached=0)
    ack, reply, res, hand = [], [], [], []
    for r in recs:
        nm = len(r["msgs"])
        g["messages"] += nm
        g["followups"] += max(0, nm - 1)
        if r["reply"]:
            before = sum(1 for t in r["msgs"] if t < r["reply"])
            g["followups_before_reply"] += max(0, before - 1)
            reply.append(max(0, r["reply"] - r["created"]))
            if r["reply"] <= r["due"]:
                g["sla_met"] += 1
            else:
                g["sla_breached"] += 1
        elif now > r["due"]:
            g["sla_breached"] += 1
        g["escalated"] += r["escalated"]
        g["reopened"] += r["reopened"]
        if r["acked"]:
            ack.append(r["acked"] - r["created"])
        if r["status"] == "resolved":
            g["resolved"] += 1
            res.append(r["resolved"] - r["created"])
            if r["assignee"]:
                hand.append(r["resolved"] - (r["claimed"] or r["created"]))
    for name, vals in (("to_ack", ack), ("to_first_reply", reply),
                       ("to_resolution", res), ("handling", hand)):
        g[name] = {"n": len(vals), "median_s": q(vals, 500),
                   "p90_s": q(vals, 900), "max_s": q(vals, 1000)}
    return g


def check(report_path, expected_path, rules_path):
    rep = json.load(open(report_path))
    exp = json.load(open(expected_path))
    recs = exp["cases"]
    now = int(dt.datetime.fromisoformat(
        rep["generated_at"].replace("Z", "+00:00")).timestamp())
    bad = []

    def cmp(where, got, want):
        for k, v in want.items():
            gv = got.get(k) if isinstance(got, dict) else None
            if isinstance(v, dict):
                cmp(where + "." + k, gv or {}, v)
            elif gv != v:
                bad.append("%s.%s: report %r, expected %r" %
                           (where, k, gv, v))

    def groups(key, keyf):
        by = {}
        for r in recs:
            name = keyf(r)
            if name is not None:
                by.setdefault(name, []).append(r)
        got = {g["name"]: g for g in rep[key]}
        if sorted(got) != sorted(by):
            bad.append("%s: groups %s, expected %s" %
                       (key, sorted(got), sorted(by)))
        for name, rs in by.items():
            want = figures(rs, now)
            cmp("%s[%s]" % (key, name), got.get(name, {}), want)
            share = round(len(rs) / len(recs), 4)
            if abs(got.get(name, {}).get("share", -1) - share) > 0.00011:
                bad.append("%s[%s].share: %r, expected %r" %
                           (key, name, got.get(name, {}).get("share"),
                            share))

    cmp("all", rep["all"], figures(recs, now))
    groups("categories", lambda r: r["cat"])
    groups("priorities", lambda r: r["prio"])
    groups("languages", lambda r: r["lang"])
    groups("ack_templates", lambda r: r["tmpl"])
    groups("reply_templates", lambda r: r["reply_tmpl"])
    groups("agents", lambda r: r["assignee"] or "(nobody)")
    groups("rules", lambda r: r["rule"])
    # volume by local day and hour
    days, hours, wh = {}, [0] * 24, [[0] * 24 for _ in range(7)]
    for r in recs:
        t = dt.datetime.fromtimestamp(r["created"], TZ)
        days[t.date().isoformat()] = days.get(t.date().isoformat(), 0) + 1
        hours[t.hour] += 1
        wh[t.weekday()][t.hour] += 1
    got_days = {d["date"]: d["cases"] for d in rep["by_day"] if d["cases"]}
    if got_days != days:
        bad.append("by_day differs: %d report days, %d expected" %
                   (len(got_days), len(days)))
    if rep["by_hour"] != hours:
        bad.append("by_hour: %r, expected %r" % (rep["by_hour"], hours))
    if rep["by_weekday_hour"] != wh:
        bad.append("by_weekday_hour differs")
    # escalation reasons, acknowledgements
    esc = {}
    for r in recs:
        pass
    acks = {"sent": 0, "suppressed": 0, "failed": 0, "expired": 0}
    sup = {}
    for r in recs:
        acks[r["ack_state"]] += 1
        if r["ack_reason"]:
            sup[r["ack_reason"]] = sup.get(r["ack_reason"], 0) + 1
    for k, v in acks.items():
        if rep["acks"][k] != v:
            bad.append("acks.%s: %r, expected %r" % (k, rep["acks"][k], v))
    if rep["acks"]["suppressed_by_reason"] != sup:
        bad.append("suppressed_by_reason: %r, expected %r" %
                   (rep["acks"]["suppressed_by_reason"], sup))
    n_esc = sum(e["count"] for e in rep["escalation_reasons"])
    want_esc = sum(r["escalated"] for r in recs)
    if n_esc != want_esc:
        bad.append("escalation reasons: %d events, expected %d" %
                   (n_esc, want_esc))
    complaint = sum(1 for r in recs if r["cat"] == "complaint")
    got_rule = [e["count"] for e in rep["escalation_reasons"]
                if e["reason"] == "by rule complaint"]
    if got_rule != [complaint]:
        bad.append("'by rule complaint': %r, expected %d" %
                   (got_rule, complaint))
    # rules that never matched: the shipped rule set minus the ones used
    # (every rules/*.yaml in name order, as peakq reads them)
    names = []
    for f in sorted(glob.glob(os.path.join(rules_path, "*.yaml"))):
        names += re.findall(r"^\s*- name:\s*([\w.-]+)", open(f).read(), re.M)
    used = {r["rule"] for r in recs}
    never = [x for x in names if x not in used]
    if rep["rules_never_matched"] != never:
        bad.append("rules_never_matched: %r, expected %r" %
                   (rep["rules_never_matched"], never))
    for b in bad[:25]:
        print("# " + b)
    print("# %d cases, %d differences" % (len(recs), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
