#!/usr/bin/env python3
"""Write rules/90-mined.yaml: fallback keyword rules mined from the labelled
tuning sets in tests/data.

The hand-written rules (rules/10-holiday.yaml) decide most mail. What they
miss mostly falls through to `general` because none of their keywords is
there. This script counts, over the labelled tuning mails (tests/data/labelled
and tests/data/heldout*; never tests/data/blind*, which measure the rules on
mail nobody tuned them on), every English phrase of one to three words and
every run of two to four Chinese characters in what the customer wrote, and
keeps those that almost only appear in mail of one category:

  - at least P of the mails that contain it are of that category, counting
    one unseen mail against it (n / (total + 1) >= P; P = 0.9 keeps phrases
    seen in at least 9 mails);
  - (almost) never in `general` mail: at most 1 in 20 of its mails;
  - no number of three or more digits (order ids, prices);
  - not already implied by a shorter kept phrase of the same category.

They go into one rule per category, in the hand-written file's order of
categories, in a file read after it: a mined keyword can only decide mail
that no hand-written rule matched. The matcher applies to them exactly as
to hand-written keywords (whole words, negation, quoted text ignored).

Text is taken the way peakq takes it, approximately: subject and body
(text/plain, else text/html without tags), without `>` lines and without
what follows "On ... wrote:", "-----Original Message-----", 在...写道 or a
"--" signature line; folded with peakq's own table (daemon/match_tables.h:
case, full and half width, traditional to simplified).

Usage: contrib/mine-keywords.py [--data DIR] [--precision P] [--out FILE]
Deterministic: the same data gives the same file, byte for byte.
"""
import argparse
import collections
import email
import email.policy
import html
import json
import os
import re
import sys
from multiprocessing import Pool

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The hand-written file's order of categories (see its header).
ORDER = ['complaint', 'lost_package', 'wrong_item', 'damaged', 'missing_item',
         'gift_options', 'return_exchange', 'late_delivery']
# priority, sla_hours and escalate as the hand-written rule of each category.
ATTRS = {'complaint': ('urgent', 2, True), 'lost_package': ('high', 4, False),
         'wrong_item': ('high', 6, False), 'damaged': ('normal', 8, False),
         'missing_item': ('high', 6, False), 'gift_options': ('normal', 8, False),
         'return_exchange': ('low', 24, False), 'late_delivery': ('high', 4, False)}

FOLD = {}


def load_fold(path):
    src = open(path, encoding='utf-8').read()
    blk = src[src.index('match_fold_pairs['):]
    blk = blk[:blk.index('};')]
    return {int(a, 16): int(b, 16) for a, b in
            re.findall(r'\{\s*0x([0-9A-Fa-f]+),\s*0x([0-9A-Fa-f]+)\s*\}', blk)}


def fold(s):
    return ''.join(chr(FOLD.get(ord(c), ord(c))) for c in s).lower()


def part_text(part):
    try:
        return part.get_content()
    except Exception:  # unknown charset, broken encoding: as peakq, keep what decodes
        b = part.get_payload(decode=True) or b''
        return b.decode('utf-8', 'replace')


def body_text(msg):
    parts = [p for p in msg.walk() if not p.is_multipart()]
    plain = [p for p in parts if p.get_content_type() == 'text/plain']
    if plain:
        return '\n'.join(part_text(p) for p in plain)
    out = []
    for p in parts:
        if p.get_content_type() == 'text/html':
            t = re.sub(r'(?is)<(script|style|head)\b.*?</\1\s*>', ' ', part_text(p))
            out.append(html.unescape(re.sub(r'<[^>]*>', ' ', t)))
    return '\n'.join(out)


QUOTE_START = re.compile(r'^(on .{0,200} wrote:|-{3,}\s*original message\s*-{3,}'
                         r'|在.{0,100}[写寫]道)', re.I)


def unquoted(text):
    keep = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith('>'):
            continue
        if s in ('--', '-- ') or QUOTE_START.match(s):
            break
        keep.append(line)
    return '\n'.join(keep)


HAN = re.compile(r'[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+')
LEAD = re.compile(r"^[^a-z0-9]*")
WORD = re.compile(r"^[a-z0-9][a-z0-9'’-]*")


def grams(text):
    """Han 2-4-grams, and English 1-3-word phrases whose words are
    separated only by white space (what a keyword phrase can match)."""
    g = set()
    t = fold(text)
    for run in HAN.findall(t):
        for n in (2, 3, 4):
            for i in range(len(run) - n + 1):
                g.add(run[i:i + n])
    for para in re.split(r'\n\s*\n', t):
        seq = []

        def flush():
            for n in (1, 2, 3):
                for i in range(len(seq) - n + 1):
                    g.add(' '.join(seq[i:i + n]))
            seq.clear()

        for chunk in para.split():
            lead = LEAD.match(chunk).group(0)
            core = chunk[len(lead):]
            m = WORD.match(core)
            if lead or not m:
                flush()
            if not m:
                continue
            w = m.group(0).rstrip("'’-")
            if not w.isascii():
                flush()
                continue
            seq.append(w)
            if len(m.group(0)) != len(core):  # punctuation after the word
                flush()
        flush()
    return g


def read_mail(path):
    with open(path, 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    try:
        subject = str(msg.get('subject', '') or '')
    except Exception:
        subject = ''
    return subject + '\n\n' + unquoted(body_text(msg))


def one(job):
    path, category = job
    return category, sorted(grams(read_mail(path)))


def tuning_sets(data):
    names = [d for d in os.listdir(data)
             if (d == 'labelled' or re.fullmatch(r'heldout\d*', d))
             and os.path.isfile(os.path.join(data, d, 'labels.tsv'))]
    return sorted(names, key=lambda d: (d != 'labelled', int(d[7:] or 1) if d != 'labelled' else 0))


def jobs_of(data, sets):
    jobs = []
    for s in sets:
        d = os.path.join(data, s)
        with open(os.path.join(d, 'labels.tsv'), encoding='utf-8') as f:
            for line in f:
                cols = line.rstrip('\n').split('\t')
                if len(cols) < 2 or cols[0] == 'file' or line.startswith('#'):
                    continue
                path = os.path.join(d, cols[0])
                if os.path.isfile(path):
                    jobs.append((path, cols[1]))
    return jobs


def select(docs, precision, precision_short):
    df = collections.defaultdict(collections.Counter)
    for category, gs in docs:
        for x in gs:
            df[x][category] += 1
    cand = collections.defaultdict(list)
    for x, cnt in df.items():
        total = sum(cnt.values())
        category, n = sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        short = ' ' not in x if x.isascii() else len(x) < 3
        if category not in ATTRS or n / (total + 1) < (precision_short if short else precision):
            continue
        if cnt['general'] > (0 if short else max(1, n // 20)) or re.search(r'\d{3}', x):
            continue
        cand[category].append((len(x), x, n, total))
    kept = {}
    for category, lst in cand.items():
        ks = []
        for _, x, n, total in sorted(lst):
            if any(k in x if not k.isascii() else
                   re.search(r'(^| )' + re.escape(k) + r'( |$)', x) for k, _, _ in ks):
                continue
            ks.append((x, n, total))
        kept[category] = ks
    return kept


def write(out, kept, sets, ndocs, precision):
    w = out.write
    w('# GENERATED by contrib/mine-keywords.py: do not edit, rerun it\n'
      '#   contrib/mine-keywords.py --out rules/90-mined.yaml\n'
      '# Fallback keywords mined from %d labelled tuning mails in tests/data\n'
      '# (%s .. %s, %d sets; never the blind sets). Read after the\n'
      '# hand-written rules, so they decide only mail none of those matched.\n'
      '# A phrase is kept when at least %.0f%% of the mails containing it (plus\n'
      '# one unseen) are of one category and (almost) none is general mail.\n'
      '# The comment after each keyword: in how many tuning mails of its\n'
      '# category it appears, of how many in all. To turn the fallback off,\n'
      '# delete this file; to correct a keyword, fix the hand-written rules.\n'
      'rules:\n' % (ndocs, sets[0], sets[-1], len(sets), precision * 100))
    for category in ORDER:
        ks = kept.get(category)
        if not ks:
            continue
        priority, sla, escalate = ATTRS[category]
        w('\n  - name: mined-%s\n    category: %s\n    priority: %s\n'
          '    sla_hours: %d\n    template: %s\n' % (category.replace('_', '-'), category,
                                                      priority, sla, category))
        if escalate:
            w('    escalate: true\n')
        w('    match:\n      any:\n')
        for x, n, total in sorted(ks, key=lambda k: k[0]):
            w('        - %s  # %d/%d\n' % (json.dumps(x, ensure_ascii=False), n, total))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', default=os.path.join(TOP, 'tests', 'data'))
    ap.add_argument('--precision', type=float, default=0.9)
    ap.add_argument('--precision-short', type=float, default=0.95)
    ap.add_argument('--out', default='-')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    global FOLD
    FOLD = load_fold(os.path.join(TOP, 'daemon', 'match_tables.h'))
    sets = tuning_sets(a.data)
    if not sets:
        sys.exit('mine-keywords: no labelled sets (labelled, heldout*) in ' + a.data)
    jobs = jobs_of(a.data, sets)
    with Pool(a.jobs) as pool:
        docs = pool.map(one, jobs, chunksize=64)
    kept = select(docs, a.precision, a.precision_short)
    if a.out == '-':
        write(sys.stdout, kept, sets, len(docs), a.precision)
    else:
        tmp = a.out + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            write(f, kept, sets, len(docs), a.precision)
        os.replace(tmp, a.out)
    print('mine-keywords: %d mails, %s' % (len(docs), ', '.join(
        '%s %d' % (c, len(kept.get(c, []))) for c in ORDER)), file=sys.stderr)


if __name__ == '__main__':
    main()
