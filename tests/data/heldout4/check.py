#!/usr/bin/env python3
"""Sanity checker for the blind evaluation set.

Usage: python3 check.py [DIR]      (DIR defaults to this script's folder)

Parses every .eml with Python's email package (policy=default) and checks:
  * labels.tsv / meta.tsv <-> *.eml files match one to one, categories valid
  * no parser defects; every text/* part decodes strictly in its charset
  * Message-IDs present and unique; Date parses, weekday correct, in range
  * no List-* / Precedence / Auto-Submitted headers
Prints counts per category x language and the encoding / structure mix.
Exits non-zero if anything is wrong.
"""
import collections, datetime, email, os, re, sys
from email import policy
from email.utils import parsedate_to_datetime

CATS = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
        'gift_options', 'return_exchange', 'complaint', 'general']
LANGS = ['en', 'zh-Hans', 'zh-Hant', 'yue']
LO = datetime.datetime(2025, 12, 11, tzinfo=datetime.timezone.utc)
HI = datetime.datetime(2026, 1, 13, 12, tzinfo=datetime.timezone.utc)
DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']


def read_tsv(path, ncol):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return lines[0].split('\t'), [ln.split('\t') for ln in lines[1:]]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errs = []
    files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
    hdr, labels = read_tsv(os.path.join(d, 'labels.tsv'), 2)
    if hdr != ['file', 'category']:
        errs.append('labels.tsv: bad header %r' % hdr)
    lab = {}
    for row in labels:
        if len(row) != 2:
            errs.append('labels.tsv: bad row %r' % row)
            continue
        if row[0] in lab:
            errs.append('labels.tsv: duplicate %s' % row[0])
        if row[1] not in CATS:
            errs.append('labels.tsv: unknown category %r for %s' % (row[1], row[0]))
        lab[row[0]] = row[1]
    mhdr, metarows = read_tsv(os.path.join(d, 'meta.tsv'), 4)
    if mhdr != ['file', 'lang', 'style', 'channel']:
        errs.append('meta.tsv: bad header %r' % mhdr)
    meta = {}
    for row in metarows:
        if len(row) != 4 or row[1] not in LANGS or row[2] not in ('ordinary', 'hard') or \
                row[3] not in ('amazon_relay', 'direct', 'other_marketplace'):
            errs.append('meta.tsv: bad row %r' % row)
            continue
        meta[row[0]] = row[1:]
    for f in files:
        if f not in lab:
            errs.append('%s: not labelled' % f)
        if f not in meta:
            errs.append('%s: missing from meta.tsv' % f)
    for f in set(lab) | set(meta):
        if f not in files:
            errs.append('%s: listed but no such file' % f)

    mids = {}
    cat_lang = collections.Counter()
    structure = collections.Counter()
    charsets = collections.Counter()
    ctes = collections.Counter()
    misc = collections.Counter()
    primary = collections.Counter()
    for f in files:
        raw = open(os.path.join(d, f), 'rb').read()
        if b'\r\n' in raw:
            misc['CRLF line endings'] += 1
            if re.search(rb'(?<!\r)\n', raw):
                errs.append('%s: mixed line endings' % f)
        msg = email.message_from_bytes(raw, policy=policy.default)
        head = raw.replace(b'\r\n', b'\n').split(b'\n\n', 1)[0]
        for name in msg.keys():
            if name.lower().startswith('list-') or name.lower() in ('precedence', 'auto-submitted'):
                errs.append('%s: forbidden header %s' % (f, name))
        for name in ('From', 'To', 'Subject', 'Date', 'Message-ID'):
            if msg[name] is None:
                errs.append('%s: missing %s' % (f, name))
        for name in ('Subject', 'From', 'To', 'Reply-To'):
            try:
                h = msg[name]
                if h is not None:
                    str(h)
                    for defect in h.defects:
                        errs.append('%s: %s header defect %r' % (f, name, defect))
            except Exception as e:  # noqa
                errs.append('%s: %s header decode: %s' % (f, name, e))
        for kind in re.findall(rb'=\?[^?\s]+\?([BbQq])\?', head):
            misc['encoded-word ' + kind.decode().upper()] += 1
        if re.search(rb'^Subject:.*=\?', raw, re.M) or re.search(rb'^(From|To|Reply-To):.*=\?', raw, re.M):
            misc['RFC 2047 encoded header'] += 1
        if re.search(rb'^[A-Za-z-]+:.*\r?\n[ \t]', raw, re.M):
            misc['folded header'] += 1
        for k in ('Reply-To', 'In-Reply-To', 'Return-Path'):
            if msg[k] is not None:
                misc['has ' + k] += 1
        mid = str(msg['Message-ID'] or '').strip()
        if not re.match(r'^<[^<>@\s]+@[^<>@\s]+>$', mid):
            errs.append('%s: odd Message-ID %r' % (f, mid))
        if mid in mids:
            errs.append('%s: Message-ID duplicates %s' % (f, mids[mid]))
        mids[mid] = f
        try:
            # the parsed header re-formats the date, so look at the raw bytes
            mo = re.search(rb'^Date:[ \t]*(.*)$', head, re.M)
            dstr = mo.group(1).decode('ascii').strip()
            dt = parsedate_to_datetime(dstr)
            if not LO <= dt <= HI:
                errs.append('%s: Date out of range %s' % (f, dstr))
            wd = dstr.split(',')[0].strip()
            if wd != DAYS[dt.weekday()]:
                errs.append('%s: wrong weekday in %s' % (f, dstr))
        except Exception as e:  # noqa
            errs.append('%s: bad Date: %s' % (f, e))
        for part in msg.walk():
            for defect in part.defects:
                errs.append('%s: parser defect %r' % (f, defect))
        top = msg.get_content_type()
        if top == 'multipart/mixed':
            structure['multipart/mixed (+attachment)'] += 1
        else:
            structure[top] += 1
        first = next((p for p in msg.walk() if p.get_content_maintype() == 'text'), None)
        if first is not None:
            primary['%s/%s' % (first.get_content_charset() or 'us-ascii (default)',
                               first.get('Content-Transfer-Encoding', '7bit').strip().lower())] += 1
        ntext = 0
        for part in msg.walk():
            if part.get_content_maintype() == 'multipart':
                continue
            if part.get_content_maintype() != 'text':
                payload = part.get_payload(decode=True)
                misc['attachment ' + part.get_content_type()] += 1
                if part.get_content_type() == 'image/png' and not payload.startswith(b'\x89PNG\r\n\x1a\n'):
                    errs.append('%s: broken PNG' % f)
                if part.get_content_type() == 'application/pdf' and not payload.startswith(b'%PDF-'):
                    errs.append('%s: broken PDF' % f)
                continue
            ntext += 1
            cs = part.get_content_charset() or 'us-ascii'
            cte = part.get('Content-Transfer-Encoding', '7bit').strip().lower()
            charsets[cs] += 1
            ctes[cte] += 1
            payload = part.get_payload(decode=True)
            try:
                txt = payload.decode(cs, 'strict')
            except (UnicodeDecodeError, LookupError) as e:
                errs.append('%s: %s part does not decode as %s: %s' % (f, part.get_content_type(), cs, e))
                continue
            if not txt.strip():
                errs.append('%s: empty text part' % f)
            if cte in ('7bit', '8bit'):
                for ln in payload.split(b'\n'):
                    if len(ln) > 998:
                        errs.append('%s: line longer than 998 octets' % f)
                if cte == '7bit' and any(b > 127 for b in payload):
                    errs.append('%s: 8-bit data in 7bit part' % f)
        if ntext == 0:
            errs.append('%s: no text part' % f)
        if f in lab and f in meta:
            cat_lang[(lab[f], meta[f][0])] += 1
            misc['style ' + meta[f][1]] += 1
            misc['channel ' + meta[f][2]] += 1

    # report
    print('%-16s' % 'category' + ''.join('%9s' % l for l in LANGS) + '%8s' % 'total')
    for c in CATS:
        row = [cat_lang[(c, l)] for l in LANGS]
        print('%-16s' % c + ''.join('%9d' % n for n in row) + '%8d' % sum(row))
    tot = [sum(cat_lang[(c, l)] for c in CATS) for l in LANGS]
    print('%-16s' % 'total' + ''.join('%9d' % n for n in tot) + '%8d' % sum(tot))
    print()
    print('structure: ' + ', '.join('%s=%d' % kv for kv in sorted(structure.items())))
    print('per message (first text part) charset/CTE: ' + ', '.join('%s=%d' % kv for kv in sorted(primary.items())))
    print('all text parts, charsets: ' + ', '.join('%s=%d' % kv for kv in sorted(charsets.items())))
    print('all text parts, CTEs: ' + ', '.join('%s=%d' % kv for kv in sorted(ctes.items())))
    print('other: ' + ', '.join('%s=%d' % kv for kv in sorted(misc.items())))
    print()
    if errs:
        for e in errs:
            print('ERROR:', e)
        print('%d problem(s) in %d files' % (len(errs), len(files)))
        return 1
    print('OK: %d files, all labelled, all text parts decode strictly' % len(files))
    return 0


if __name__ == '__main__':
    sys.exit(main())
