#!/usr/bin/env python3
"""Sanity checks for the labelled evaluation set (tests/data/labelled/).

Parses every message listed in labels.tsv with the stdlib email package
(policy=email.policy.default), extracts the readable body text (text/plain,
or HTML converted roughly) and verifies:

  * labels.tsv has the header "file<TAB>category", known categories only,
    and lists exactly the .eml files present in this folder;
  * each message has the required headers, a unique Message-ID and a Date
    between 2025-11-28 and 2026-01-15 (UTC);
  * every text part decodes strictly in its declared charset (no U+FFFD),
    and encoded-word headers decode cleanly;
  * per-category minimums, the complaint EN/ZH split, the Chinese share
    (~45%) and the Traditional Chinese minimum.

Prints counts per category x language and the encoding/structure mix.
Exit status is non-zero if any check fails.

Usage: python3 check.py [-v]
"""
import codecs
import collections
import datetime as dt
import email
import email.policy
import email.utils
import html.parser
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORIES = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
              'gift_options', 'return_exchange', 'complaint', 'general']
MIN_PER_CAT = 18
MIN_COMPLAINT = 20
MIN_TOTAL = 220
ZH_SHARE = (0.40, 0.50)
MIN_TRAD = 20
DATE_LO = dt.datetime(2025, 11, 28, tzinfo=dt.timezone.utc)
DATE_HI = dt.datetime(2026, 1, 16, tzinfo=dt.timezone.utc)
OID_RE = re.compile(r'(?<!\d)\d{3}-\d{7}-\d{7}(?!\d)')  # no \b: CJK chars count as word chars

# Characters that only occur in one of the two scripts (common ones).
TRAD_ONLY = set('們這還沒貨買給個來說嗎會時請訂單國寄東與發們過後裡麼點嘅咗喺唔冇畀哋嘢體樣換謝應該麻煩處顯禮號碼謝')
SIMP_ONLY = set('们这还没货买给个来说吗会时请订单国寄东与发过后里么点体样换谢应该麻烦处显礼号码')
_SHARED = TRAD_ONLY & SIMP_ONLY  # e.g. '寄', '麻' are written the same in both
TRAD_ONLY -= _SHARED
SIMP_ONLY -= _SHARED


class HTMLText(html.parser.HTMLParser):
    BLOCK = {'p', 'div', 'br', 'tr', 'li', 'blockquote', 'table', 'h1', 'h2', 'h3', 'hr'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ('style', 'script', 'head', 'title'):
            self.skip += 1
        elif tag in self.BLOCK:
            self.out.append('\n')

    def handle_endtag(self, tag):
        if tag in ('style', 'script', 'head', 'title'):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.out.append('\n')

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(s):
    p = HTMLText()
    p.feed(s)
    p.close()
    t = ''.join(p.out).replace('\xa0', ' ')
    t = '\n'.join(ln.strip() for ln in t.split('\n'))
    return re.sub(r'\n{3,}', '\n\n', t).strip()


def decode_part(part, errors):
    """Return the strictly decoded text of a text/* part (appends to errors)."""
    raw = part.get_payload(decode=True) or b''
    cs = part.get_content_charset() or 'us-ascii'
    try:
        codecs.lookup(cs)
    except LookupError:
        errors.append('unknown charset %r' % cs)
        return ''
    try:
        txt = raw.decode(cs, errors='strict')
    except UnicodeDecodeError as e:
        errors.append('body does not decode as %s: %s' % (cs, e))
        return raw.decode(cs, errors='replace')
    if '\ufffd' in txt:
        errors.append('replacement character in body (%s)' % cs)
    content = part.get_content()
    if content.replace('\r\n', '\n') != txt.replace('\r\n', '\n'):
        errors.append('email.get_content() differs from strict decode (%s)' % cs)
    return txt


def extract(msg, errors):
    """Return (body_text, structure, charsets) for a parsed message."""
    plains, htmls, charsets, ctes = [], [], [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() != 'text' or part.get_content_disposition() == 'attachment':
            continue
        txt = decode_part(part, errors)
        charsets.append((part.get_content_charset() or 'us-ascii').lower())
        ctes.append(part.get('Content-Transfer-Encoding', '7bit').lower())
        (plains if part.get_content_subtype() == 'plain' else htmls).append(txt)
    if plains:
        body = '\n'.join(plains)
    elif htmls:
        body = '\n'.join(html_to_text(h) for h in htmls)
    else:
        errors.append('no text part')
        body = ''
    ct = msg.get_content_type()
    if ct == 'multipart/mixed':
        inner = [p.get_content_type() for p in msg.iter_parts()]
        structure = 'mixed(%s)' % ','.join(inner)
    else:
        structure = ct
    return body, structure, charsets, ctes


def strip_relay(body):
    """Drop the Amazon Buyer-Seller Messaging boilerplate around the buyer text."""
    m = re.search(r'-{5,} (?:Message:|Begin message) -{5,}(.*?)-{5,} End message -{5,}', body, re.S)
    return m.group(1) if m else body


def language(text):
    cjk = [c for c in text if '\u4e00' <= c <= '\u9fff']
    if len(cjk) < 4:
        return 'en'
    t = sum(c in TRAD_ONLY for c in cjk)
    s = sum(c in SIMP_ONLY for c in cjk)
    return 'zh-Hant' if t > s else 'zh-Hans'


def check_header_text(name, value, errors):
    if value is None:
        errors.append('missing %s header' % name)
        return ''
    v = str(value)
    if '\ufffd' in v or '=?' in v:
        errors.append('%s header did not decode cleanly: %r' % (name, v))
    return v


def main():
    verbose = '-v' in sys.argv
    failures = []
    lab_path = os.path.join(HERE, 'labels.tsv')
    with open(lab_path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines[0] != 'file\tcategory':
        failures.append('labels.tsv: bad header %r' % lines[0])
    labels = {}
    for n, ln in enumerate(lines[1:], 2):
        if not ln.strip():
            continue
        parts = ln.split('\t')
        if len(parts) != 2:
            failures.append('labels.tsv:%d: expected 2 tab-separated fields' % n)
            continue
        fn, cat = parts
        if cat not in CATEGORIES:
            failures.append('labels.tsv:%d: unknown category %r' % (n, cat))
        if fn in labels:
            failures.append('labels.tsv:%d: duplicate %s' % (n, fn))
        labels[fn] = cat

    on_disk = {f for f in os.listdir(HERE) if f.endswith('.eml')}
    for f in sorted(on_disk - set(labels)):
        failures.append('%s: not listed in labels.tsv' % f)
    for f in sorted(set(labels) - on_disk):
        failures.append('%s: listed in labels.tsv but missing' % f)

    table = collections.Counter()
    enc_mix = collections.Counter()
    struct_mix = collections.Counter()
    msgids = {}
    n_oid = n_relay = n_crlf = n_ew = 0
    langs = {}
    for fn in sorted(labels):
        path = os.path.join(HERE, fn)
        if not os.path.exists(path):
            continue
        errors = []
        raw = open(path, 'rb').read()
        if b'\r\n' in raw:
            n_crlf += 1
            if raw.replace(b'\r\n', b'').count(b'\n'):
                errors.append('mixed CRLF/LF line ends')
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for h in ('Return-Path', 'From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type'):
            if msg.get(h) is None:
                errors.append('missing %s' % h)
        frm = check_header_text('From', msg.get('From'), errors)
        subj = check_header_text('Subject', msg.get('Subject'), errors)
        if re.search(rb'^(Subject|From):[^\n]*=\?', raw, re.M | re.I):
            n_ew += 1
        try:
            addr = msg['From'].addresses[0]
            if not addr.display_name:
                errors.append('From has no display name')
            relay = addr.domain == 'marketplace.amazon.com'
        except Exception as e:  # noqa
            errors.append('unparsable From: %s' % e)
            relay = False
        n_relay += relay
        try:
            d = email.utils.parsedate_to_datetime(str(msg['Date']))
            if d.tzinfo is None or not (DATE_LO <= d < DATE_HI):
                errors.append('Date out of range: %s' % msg['Date'])
        except Exception as e:  # noqa
            errors.append('bad Date: %s' % e)
        mid = str(msg.get('Message-ID', ''))
        if mid in msgids:
            errors.append('duplicate Message-ID (also %s)' % msgids[mid])
        msgids[mid] = fn
        body, structure, charsets, ctes = extract(msg, errors)
        buyer = strip_relay(body) if relay else body
        lg = language(buyer + ' ' + subj)
        langs[fn] = lg
        prefix = 'en' if fn.startswith('en-') else 'zh-Hant' if fn.startswith(('zh-tw-', 'zh-hk-')) else 'zh-Hans'
        if prefix != lg:
            errors.append('detected language %s but file name says %s' % (lg, prefix))
        if OID_RE.search(subj + '\n' + body):
            n_oid += 1
        table[(labels[fn], lg)] += 1
        for cs, cte in zip(charsets, ctes):
            enc_mix[(cs, cte)] += 1
        struct_mix[structure] += 1
        if verbose:
            print('%-28s %-16s %-8s %-40s %s' % (fn, labels[fn], lg, structure, ','.join(sorted(set(charsets)))))
        for e in errors:
            failures.append('%s: %s' % (fn, e))

    total = len(langs)
    print('\nCounts per category x language')
    print('%-16s %5s %8s %8s %6s' % ('category', 'en', 'zh-Hans', 'zh-Hant', 'total'))
    for cat in CATEGORIES:
        row = [table[(cat, l)] for l in ('en', 'zh-Hans', 'zh-Hant')]
        print('%-16s %5d %8d %8d %6d' % (cat, row[0], row[1], row[2], sum(row)))
        if sum(row) < MIN_PER_CAT:
            failures.append('category %s has %d messages (< %d)' % (cat, sum(row), MIN_PER_CAT))
    cols = [sum(table[(c, l)] for c in CATEGORIES) for l in ('en', 'zh-Hans', 'zh-Hant')]
    print('%-16s %5d %8d %8d %6d' % ('total', cols[0], cols[1], cols[2], total))

    cmp_en = table[('complaint', 'en')]
    cmp_zh = table[('complaint', 'zh-Hans')] + table[('complaint', 'zh-Hant')]
    if cmp_en + cmp_zh < MIN_COMPLAINT or cmp_en < MIN_COMPLAINT // 2 or cmp_zh < MIN_COMPLAINT // 2:
        failures.append('complaint: need >= %d, half EN / half ZH (have en=%d zh=%d)' % (MIN_COMPLAINT, cmp_en, cmp_zh))
    for cat in ('general', 'late_delivery'):
        others = max(sum(table[(c, l)] for l in ('en', 'zh-Hans', 'zh-Hant')) for c in CATEGORIES
                     if c not in ('general', 'late_delivery'))
        mine = sum(table[(cat, l)] for l in ('en', 'zh-Hans', 'zh-Hant'))
        if mine <= others:
            failures.append('%s should be larger than the other categories (%d <= %d)' % (cat, mine, others))
    if total < MIN_TOTAL:
        failures.append('only %d messages (< %d)' % (total, MIN_TOTAL))
    zh = cols[1] + cols[2]
    share = zh / total if total else 0
    print('\nChinese share: %.1f%% (%d of %d), Traditional: %d' % (100 * share, zh, total, cols[2]))
    if not (ZH_SHARE[0] <= share <= ZH_SHARE[1]):
        failures.append('Chinese share %.1f%% outside %s' % (100 * share, ZH_SHARE))
    if cols[2] < MIN_TRAD:
        failures.append('only %d Traditional Chinese messages (< %d)' % (cols[2], MIN_TRAD))
    print('Amazon relay senders: %d (%.0f%%); with a 3-7-7 order id: %d (%.0f%%); CRLF files: %d; '
          'encoded-word Subject/From: %d'
          % (n_relay, 100 * n_relay / total, n_oid, 100 * n_oid / total, n_crlf, n_ew))

    print('\nText parts by charset / transfer encoding')
    for (cs, cte), n in sorted(enc_mix.items()):
        print('  %-14s %-18s %3d' % (cs, cte, n))
    print('\nTop-level structure')
    for s, n in sorted(struct_mix.items(), key=lambda x: -x[1]):
        print('  %-60s %3d' % (s, n))

    if failures:
        print('\nFAILED (%d problems):' % len(failures))
        for f in failures:
            print('  ' + f)
        return 1
    print('\nOK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
