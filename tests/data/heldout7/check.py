#!/usr/bin/env python3
"""Integrity check for the labelled sets written to the heldout7 specification
(heldout7, heldout8, heldout9, heldout10, heldout11, heldout12, heldout13, blind9; stdlib only).

- parses every f-*.eml with email.policy.default
- requires Date, From, To, Subject, Message-ID, MIME-Version
- decodes every RFC 2047 header word and every text/* part with its declared
  charset in strict mode (any decoding error is a failure)
- checks labels.tsv and meta.tsv cover exactly the .eml files
- prints counts
Usage: python3 check.py [DIR]   (default: the folder this script is in)
"""
import codecs
import email
import email.header
import email.policy
import email.utils
import os
import sys
from collections import Counter
from datetime import datetime, timezone

CATEGORIES = {'late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
              'gift_options', 'return_exchange', 'complaint', 'general'}
LANGS = {'en', 'zh-Hans', 'zh-Hant', 'yue'}
STYLES = {'ordinary', 'hard'}
REQUIRED = ['Date', 'From', 'To', 'Subject', 'Message-ID', 'MIME-Version']
FIRST = datetime(2026, 12, 10, tzinfo=timezone.utc)
LAST = datetime(2027, 1, 13, 12, 0, tzinfo=timezone.utc)  # 2027-01-12 in any timezone


def channel_group(ch):
    if ch.startswith('amazon.'):
        return 'amazon'
    if ch == 'direct':
        return 'direct'
    return 'other-marketplace'


def strict_header(raw, where, errors):
    try:
        parts = email.header.decode_header(raw)
    except Exception as e:  # malformed encoded-word
        errors.append(f'{where}: cannot parse header: {e}')
        return '', set()
    out, charsets = [], set()
    for chunk, cs in parts:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        try:
            out.append(chunk.decode(cs or 'ascii', 'strict'))
        except (UnicodeDecodeError, LookupError) as e:
            errors.append(f'{where}: header decode error ({cs}): {e}')
        if cs:
            charsets.add(cs.lower())
    return ''.join(out), charsets


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
    errors = []
    c = {k: Counter() for k in ['charset', 'cte', 'structure', 'subject_enc', 'line_end', 'attachment']}

    for fn in files:
        raw = open(os.path.join(d, fn), 'rb').read()
        c['line_end']['CRLF' if b'\r\n' in raw else 'LF'] += 1
        if b'\r\n' in raw and raw.count(b'\n') != raw.count(b'\r\n'):
            errors.append(f'{fn}: mixed line endings')
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        old = email.message_from_bytes(raw)  # compat32: raw header strings
        for h in REQUIRED:
            if old.get(h) is None:
                errors.append(f'{fn}: missing header {h}')
        for h in ('From', 'To', 'Subject', 'Reply-To'):
            if old.get(h) is not None:
                text, css = strict_header(str(old.get(h)), f'{fn} {h}', errors)
                if h == 'Subject':
                    c['subject_enc'][','.join(sorted(css)) if css else 'plain'] += 1
        try:
            str(msg['Subject']); str(msg['From']); str(msg['To'])
        except Exception as e:
            errors.append(f'{fn}: policy.default header error: {e}')
        try:
            dt = email.utils.parsedate_to_datetime(old['Date'])
            if not (FIRST <= dt <= LAST):
                errors.append(f'{fn}: Date out of range: {old["Date"]}')
        except Exception as e:
            errors.append(f'{fn}: bad Date: {e}')

        struct = []
        ntext = 0
        for part in msg.walk():
            ct = part.get_content_type()
            struct.append(ct)
            for dfct in part.defects:
                if part is not msg:
                    errors.append(f'{fn}: defect in {ct} part: {dfct!r}')
            if part.is_multipart():
                continue
            if part.get_content_maintype() == 'text':
                ntext += 1
                cs = part.get_content_charset()
                if cs is None:
                    errors.append(f'{fn}: text part {ct} without charset')
                    cs = 'us-ascii'
                cte = (part.get('Content-Transfer-Encoding') or '7bit').lower()
                c['charset'][cs] += 1
                c['cte'][cte] += 1
                payload = part.get_payload(decode=True)
                try:
                    codecs.lookup(cs)
                    text = payload.decode(cs, 'strict')
                except (UnicodeDecodeError, LookupError) as e:
                    errors.append(f'{fn}: {ct} does not decode as {cs}: {e}')
                    continue
                if not text.strip():
                    errors.append(f'{fn}: empty {ct} part')
                if cte == '7bit' and any(b > 127 for b in part.get_payload(decode=False).encode('ascii', 'surrogateescape')):
                    errors.append(f'{fn}: 8-bit data in 7bit part')
                try:
                    part.get_content()
                except Exception as e:
                    errors.append(f'{fn}: get_content() failed: {e}')
            else:
                data = part.get_payload(decode=True)
                if not data:
                    errors.append(f'{fn}: empty attachment {ct}')
                if ct == 'image/png' and not data.startswith(b'\x89PNG\r\n\x1a\n'):
                    errors.append(f'{fn}: attachment is not a PNG')
                if ct == 'application/pdf' and not data.startswith(b'%PDF-'):
                    errors.append(f'{fn}: attachment is not a PDF')
                c['attachment'][ct] += 1
        if ntext == 0:
            errors.append(f'{fn}: no text part')
        for dfct in msg.defects:
            errors.append(f'{fn}: defect {dfct!r}')
        c['structure'][' > '.join(struct)] += 1

    def read_tsv(name, header):
        path = os.path.join(d, name)
        rows = [l.rstrip('\n').split('\t') for l in open(path, encoding='utf-8') if l.strip()]
        if header:
            rows = rows[1:]
        return rows

    labels = read_tsv('labels.tsv', header=False)
    meta_lines = open(os.path.join(d, 'meta.tsv'), encoding='utf-8').read().splitlines()
    if meta_lines[0].split('\t') != ['file', 'lang', 'style', 'channel']:
        errors.append('meta.tsv: bad header line')
    meta = read_tsv('meta.tsv', header=True)
    for name, rows, width in (('labels.tsv', labels, 2), ('meta.tsv', meta, 4)):
        names = [r[0] for r in rows]
        if any(len(r) != width for r in rows):
            errors.append(f'{name}: rows with wrong column count')
        if len(names) != len(set(names)):
            errors.append(f'{name}: duplicate file names')
        if set(names) != set(files):
            errors.append(f'{name}: does not cover exactly the .eml files '
                          f'(missing {sorted(set(files) - set(names))[:5]}, extra {sorted(set(names) - set(files))[:5]})')
    cat = Counter(r[1] for r in labels)
    bad = set(cat) - CATEGORIES
    if bad:
        errors.append(f'labels.tsv: unknown categories {bad}')
    lang = Counter(r[1] for r in meta)
    style = Counter(r[2] for r in meta)
    chan = Counter(r[3] for r in meta)
    if set(lang) - LANGS or set(style) - STYLES:
        errors.append('meta.tsv: unknown lang/style values')

    def show(title, counter):
        print(f'{title}:')
        for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f'  {v:4d}  {k}')

    print(f'files: {len(files)}')
    show('category', cat)
    show('lang', lang)
    show('style', style)
    show('channel (group)', Counter(channel_group(r[3]) for r in meta))
    show('channel', chan)
    labmap = dict(labels)
    show('category x lang', Counter(f'{labmap.get(r[0])} / {r[1]}' for r in meta))
    show('text-part charset', c['charset'])
    show('text-part transfer encoding', c['cte'])
    show('MIME structure', c['structure'])
    show('attachments', c['attachment'])
    show('Subject encoded-word charset', c['subject_enc'])
    show('line endings', c['line_end'])
    if errors:
        print(f'\nFAIL: {len(errors)} problem(s)')
        for e in errors:
            print('  ' + e)
        sys.exit(1)
    print('\nOK: all files parse and decode strictly; labels.tsv and meta.tsv cover exactly the files')


if __name__ == '__main__':
    main()
