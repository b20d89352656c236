#!/usr/bin/env python3
"""Sanity checker for the blind peakq evaluation set.

Usage:  python3 check.py [DIR]      (DIR defaults to the directory of this script)
Exits non-zero if any problem is found.
"""
import base64, binascii, collections, datetime as dt, email, email.policy, email.utils, os, re, sys

CATS = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
        'gift_options', 'return_exchange', 'complaint', 'general']
LANGS = ['en', 'zh-Hans', 'zh-Hant', 'yue']
STYLES = ['ordinary', 'hard']
CHANNELS = ['amazon_relay', 'direct', 'other_marketplace']
DATE_MIN = dt.date(2025, 12, 15)
DATE_MAX = dt.date(2026, 1, 10)
FORBIDDEN_HEADERS = ('precedence', 'auto-submitted')

problems = []
def bad(f, msg):
    problems.append('%s: %s' % (f, msg))

def read_tsv(path, ncols):
    rows = {}
    with open(path, encoding='utf-8') as fh:
        lines = fh.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    header = lines[0].split('\t')
    if len(header) != ncols:
        bad(os.path.basename(path), 'bad header %r' % header)
    for ln, line in enumerate(lines[1:], 2):
        cols = line.split('\t')
        if len(cols) != ncols:
            bad(os.path.basename(path), 'line %d has %d columns' % (ln, len(cols)))
            continue
        if cols[0] in rows:
            bad(os.path.basename(path), 'duplicate entry %s' % cols[0])
        rows[cols[0]] = cols[1:]
    return header, rows

def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    hdr, labels = read_tsv(os.path.join(d, 'labels.tsv'), 2)
    if hdr != ['file', 'category']:
        bad('labels.tsv', 'header must be file<TAB>category')
    mhdr, meta = read_tsv(os.path.join(d, 'meta.tsv'), 4)
    if mhdr != ['file', 'lang', 'style', 'channel']:
        bad('meta.tsv', 'header must be file, lang, style, channel')
    files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
    for f in files:
        if f not in labels:
            bad(f, 'not in labels.tsv')
        if f not in meta:
            bad(f, 'not in meta.tsv')
    for f in labels:
        if f not in files:
            bad(f, 'labelled but file missing')
        if labels[f][0] not in CATS:
            bad(f, 'unknown category %r' % labels[f][0])
    for f, (lang, style, chan) in meta.items():
        if f not in files:
            bad(f, 'in meta.tsv but file missing')
        if lang not in LANGS: bad(f, 'bad lang %r' % lang)
        if style not in STYLES: bad(f, 'bad style %r' % style)
        if chan not in CHANNELS: bad(f, 'bad channel %r' % chan)

    mids = {}
    cat_lang = collections.Counter()
    stats = collections.defaultdict(collections.Counter)
    for f in files:
        raw = open(os.path.join(d, f), 'rb').read()
        stats['line endings']['CRLF' if b'\r\n' in raw else 'LF'] += 1
        if b'\r\n' in raw and re.search(rb'(?<!\r)\n', raw):
            bad(f, 'mixed line endings')
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
        except Exception as e:  # pragma: no cover
            bad(f, 'parse error %r' % e); continue
        # --- headers
        for h in ('From', 'To', 'Subject', 'Date', 'Message-ID'):
            if msg[h] is None:
                bad(f, 'missing %s header' % h)
        for k in msg.keys():
            if k.lower().startswith('list-') or k.lower() in FORBIDDEN_HEADERS:
                bad(f, 'forbidden header %s' % k)
        for k in set(msg.keys()):
            for v in msg.get_all(k):
                if '\ufffd' in str(v):
                    bad(f, 'replacement char in header %s' % k)
                if getattr(v, 'defects', None):
                    bad(f, 'header %s defects: %r' % (k, v.defects))
        mid = str(msg['Message-ID'] or '').strip()
        if not re.fullmatch(r'<[^<>@\s]+@[^<>@\s]+>', mid):
            bad(f, 'malformed Message-ID %r' % mid)
        if mid in mids:
            bad(f, 'duplicate Message-ID (also %s)' % mids[mid])
        mids[mid] = f
        date_raw = raw.split(b'\nDate: ', 1)[1].split(b'\n', 1)[0].decode().strip() if b'\nDate: ' in raw else ''
        try:
            when = email.utils.parsedate_to_datetime(date_raw)
            if not (DATE_MIN <= when.date() <= DATE_MAX):
                bad(f, 'date out of range %s' % date_raw)
            wd = date_raw.split(',')[0]
            if wd != when.strftime('%a'):
                bad(f, 'weekday mismatch %s' % date_raw)
        except Exception as e:
            bad(f, 'bad Date %r (%r)' % (date_raw, e))
        subj_raw = raw.split(b'\nSubject:', 1)[1].split(b'\n', 1)[0] if b'\nSubject:' in raw else b''
        if b'=?' in raw.split(b'\n\n', 1)[0] or b'=?' in raw.split(b'\r\n\r\n', 1)[0]:
            head = raw.split(b'\n\n', 1)[0]
            for enc in set(re.findall(rb'=\?([^?]+)\?([bBqQ])\?', head)):
                stats['encoded-word charset?enc'][('%s?%s' % (enc[0].decode().lower(), enc[1].decode().upper()))] += 1
        stats['Return-Path']['present' if msg['Return-Path'] else 'absent'] += 1
        stats['reply headers']['In-Reply-To' if msg['In-Reply-To'] else 'none'] += 1
        stats['Reply-To']['present' if msg['Reply-To'] else 'absent'] += 1
        stats['top-level type'][msg.get_content_type()] += 1
        # --- parts
        ntext = 0
        for part in msg.walk():
            if part.is_multipart():
                if not part.get_boundary():
                    bad(f, 'multipart without boundary')
                continue
            if part.defects:
                bad(f, 'part defects %r' % part.defects)
            ctype = part.get_content_type()
            cte = (part.get('Content-Transfer-Encoding') or '7bit').lower()
            payload = part.get_payload(decode=False)
            if cte == 'base64':
                try:
                    base64.b64decode(re.sub(r'\s+', '', payload), validate=True)
                except binascii.Error as e:
                    bad(f, 'invalid base64 in %s: %s' % (ctype, e))
            data = part.get_payload(decode=True)
            if part.get_content_maintype() == 'text':
                ntext += 1
                cs = part.get_content_charset()
                if not cs:
                    bad(f, 'text part without charset'); continue
                if cte == '7bit' and any(b > 127 for b in data):
                    bad(f, '7bit part contains 8-bit data')
                try:
                    txt = data.decode(cs, 'strict')
                except (UnicodeDecodeError, LookupError) as e:
                    bad(f, 'text part does not decode strictly as %s: %s' % (cs, e)); continue
                if '\ufffd' in txt:
                    bad(f, 'replacement character in decoded %s part' % ctype)
                if not txt.strip():
                    bad(f, 'empty text part')
                try:
                    if part.get_content() is None:
                        bad(f, 'get_content() returned None')
                except Exception as e:
                    bad(f, 'get_content() failed: %r' % e)
                stats['text part charset/CTE']['%s / %s' % (cs, cte)] += 1
                stats['text part type'][ctype] += 1
            else:
                fn = part.get_filename()
                if not fn:
                    bad(f, 'attachment without filename')
                if ctype == 'image/png' and not data.startswith(b'\x89PNG\r\n\x1a\n'):
                    bad(f, 'attachment is not a PNG')
                if ctype == 'application/pdf' and not (data.startswith(b'%PDF-') and data.rstrip().endswith(b'%%EOF')):
                    bad(f, 'attachment is not a PDF')
                stats['attachments'][ctype] += 1
        if ntext == 0:
            bad(f, 'no text part')
        if f in labels and f in meta:
            cat_lang[(labels[f][0], meta[f][0])] += 1
            stats['channel'][meta[f][2]] += 1
            stats['style'][meta[f][1]] += 1

    # --- report
    print('%d messages, %d labels, %d meta rows\n' % (len(files), len(labels), len(meta)))
    w = max(len(c) for c in CATS)
    print('%-*s ' % (w, 'category') + ' '.join('%7s' % l for l in LANGS) + '   total')
    for c in CATS:
        row = [cat_lang[(c, l)] for l in LANGS]
        print('%-*s ' % (w, c) + ' '.join('%7d' % x for x in row) + '   %5d' % sum(row))
    tot = [sum(cat_lang[(c, l)] for c in CATS) for l in LANGS]
    print('%-*s ' % (w, 'total') + ' '.join('%7d' % x for x in tot) + '   %5d' % sum(tot))
    for k in ['channel', 'style', 'top-level type', 'text part type', 'text part charset/CTE', 'attachments',
              'encoded-word charset?enc', 'line endings', 'Return-Path', 'Reply-To', 'reply headers']:
        print('\n%s:' % k)
        for v, n in sorted(stats[k].items(), key=lambda kv: (-kv[1], kv[0])):
            print('  %-40s %d' % (v, n))
    if problems:
        print('\nPROBLEMS (%d):' % len(problems))
        for p in problems:
            print('  ' + p)
        return 1
    print('\nOK: no problems found')
    return 0

if __name__ == '__main__':
    sys.exit(main())
