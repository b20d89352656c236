#!/usr/bin/env python3
"""Sanity checker for the blind peakq evaluation set.

Usage: python3 check.py [DIR]   (DIR defaults to the directory of this script)
Exits non-zero if any problem is found.
"""
import codecs, collections, email, email.utils, os, re, sys, datetime
from email import policy

CATS = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
        'gift_options', 'return_exchange', 'complaint', 'general']
LANGS = ['en', 'zh-Hans', 'zh-Hant', 'yue']
CHANNELS = {'amazon_relay', 'direct', 'other_marketplace'}
STYLES = {'ordinary', 'hard'}
FORBIDDEN_HDRS = ('precedence', 'auto-submitted')
DMIN, DMAX = datetime.date(2025, 12, 12), datetime.date(2026, 1, 12)
WD = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
problems = []
def bad(msg): problems.append(msg)

def read_tsv(name, ncols):
    rows = {}
    with open(os.path.join(d, name), encoding='utf-8') as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines[1:], 2):
        cols = line.split('\t')
        if len(cols) != ncols: bad('%s:%d: expected %d columns' % (name, n, ncols)); continue
        if cols[0] in rows: bad('%s:%d: duplicate %s' % (name, n, cols[0]))
        rows[cols[0]] = cols[1:]
    return lines[0].split('\t'), rows

hl, labels = read_tsv('labels.tsv', 2)
if hl != ['file', 'category']: bad('labels.tsv: bad header %r' % hl)
hm, meta = read_tsv('meta.tsv', 4)
if hm != ['file', 'lang', 'style', 'channel']: bad('meta.tsv: bad header %r' % hm)

files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
for f in files:
    if f not in labels: bad('%s: not labelled' % f)
    if f not in meta: bad('%s: no meta row' % f)
for f in labels:
    if f not in files: bad('labels.tsv: %s does not exist' % f)
    if labels[f][0] not in CATS: bad('%s: unknown category %r' % (f, labels[f][0]))
for f, (lang, style, ch) in meta.items():
    if f not in files: bad('meta.tsv: %s does not exist' % f)
    if lang not in LANGS or style not in STYLES or ch not in CHANNELS: bad('%s: bad meta %r' % (f, (lang, style, ch)))

mids = collections.Counter()
mix = collections.Counter()
charsets = collections.Counter()
ctes = collections.Counter()
crlf = 0
for f in files:
    raw = open(os.path.join(d, f), 'rb').read()
    if b'\r\n' in raw:
        crlf += 1
        if re.search(rb'(?<!\r)\n', raw): bad('%s: mixed line endings' % f)
    msg = email.message_from_bytes(raw, policy=policy.default)
    for k in msg.keys():
        if k.lower().startswith('list-') or k.lower() in FORBIDDEN_HDRS: bad('%s: forbidden header %s' % (f, k))
    for h in ('From', 'To', 'Subject', 'Date', 'Message-ID'):
        if msg[h] is None: bad('%s: missing %s' % (f, h))
    try:
        str(msg['Subject']); str(msg['From']); str(msg['To'])
    except Exception as e:
        bad('%s: header decode error %s' % (f, e))
    for h in ('Subject', 'From', 'To'):
        v = msg[h]
        if v is not None and getattr(v, 'defects', None):
            bad('%s: %s defects %r' % (f, h, v.defects))
    m_id = str(msg['Message-ID']).strip()
    if not re.fullmatch(r'<[^<>@\s]+@[^<>@\s]+>', m_id): bad('%s: malformed Message-ID %r' % (f, m_id))
    mids[m_id] += 1
    rawdate = str(msg['Date'])
    dt = email.utils.parsedate_to_datetime(rawdate)
    if not (DMIN <= dt.date() <= DMAX): bad('%s: date out of range %s' % (f, rawdate))
    wd = rawdate.split(',')[0].strip()
    if wd != WD[dt.weekday()]: bad('%s: weekday mismatch %s' % (f, rawdate))
    if msg.defects: bad('%s: message defects %r' % (f, msg.defects))
    ntext = 0
    for part in msg.walk():
        if part.is_multipart():
            if part.defects: bad('%s: part defects %r' % (f, part.defects))
            continue
        ctype = part.get_content_type()
        cte = part.get('Content-Transfer-Encoding', '7bit').lower()
        payload = part.get_payload(decode=True)
        if part.get_content_maintype() == 'text':
            ntext += 1
            cs = part.get_content_charset()
            if not cs: bad('%s: text part without charset' % f); continue
            charsets[cs] += 1; ctes[cte] += 1
            try:
                codec = codecs.lookup(cs).name
            except LookupError:
                bad('%s: unknown charset %s' % (f, cs)); continue
            try:
                txt = payload.decode(codec, 'strict')
            except UnicodeDecodeError as e:
                bad('%s: %s part does not decode as %s: %s' % (f, ctype, cs, e)); continue
            if cte == '7bit' and any(b > 127 for b in payload): bad('%s: 8-bit data in 7bit part' % f)
            if not txt.strip(): bad('%s: empty text part' % f)
        elif ctype == 'image/png':
            if not payload.startswith(b'\x89PNG\r\n\x1a\n'): bad('%s: bad PNG' % f)
        elif ctype == 'application/pdf':
            if not (payload.startswith(b'%PDF-') and b'%%EOF' in payload[-10:]): bad('%s: bad PDF' % f)
        else:
            bad('%s: unexpected part %s' % (f, ctype))
    if ntext == 0: bad('%s: no text part' % f)
    ct = msg.get_content_type()
    if ct == 'multipart/mixed':
        sub = [p.get_content_type() for p in msg.iter_attachments()]
        ct = 'multipart/mixed (%s)' % ','.join(sub)
    mix[ct] += 1

for k, n in mids.items():
    if n > 1: bad('duplicate Message-ID %s' % k)

# ---- report ----
grid = collections.Counter((labels[f][0], meta[f][0]) for f in files if f in labels and f in meta)
print('%-16s' % 'category' + ''.join('%9s' % l for l in LANGS) + '%8s' % 'total')
for c in CATS:
    print('%-16s' % c + ''.join('%9d' % grid[(c, l)] for l in LANGS) + '%8d' % sum(grid[(c, l)] for l in LANGS))
print('%-16s' % 'total' + ''.join('%9d' % sum(grid[(c, l)] for c in CATS) for l in LANGS) + '%8d' % len(files))
print()
print('channel:', dict(collections.Counter(meta[f][2] for f in files if f in meta)))
print('style:  ', dict(collections.Counter(meta[f][1] for f in files if f in meta)))
print('structure:', dict(mix))
print('charsets (text parts):', dict(charsets))
print('transfer encodings (text parts):', dict(ctes))
print('CRLF files:', crlf)
print()
if problems:
    print('PROBLEMS (%d):' % len(problems))
    for p in problems: print('  ' + p)
    sys.exit(1)
print('OK: %d files, no problems' % len(files))
