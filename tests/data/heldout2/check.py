#!/usr/bin/env python3
"""Sanity check for the peakq third labelled set (tests/data/heldout2).

Usage: python3 check.py [DIR]   (DIR defaults to the folder holding this script)

Checks that every b-NNN.eml parses, is listed in labels.tsv (and vice versa),
carries the expected headers, and that every text part decodes strictly with
its declared charset (no U+FFFD). Prints counts per category x language and a
summary of the format mix. Exit status 1 on any error.
"""
import collections, csv, email, email.policy, email.utils, os, re, sys, datetime

CATS = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
        'gift_options', 'return_exchange', 'complaint', 'general']
REQUIRED = ['Return-Path', 'From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']
OID = re.compile(r'\b\d{3}-\d{7}-\d{7}\b')
CJK = re.compile(r'[\u3400-\u9fff]')
TRAD = set('們這個來說時會對還麼為後過買賣號單運沒請謝貨問題裡與點發關經現麻煩禮誕聖節壞錯換給幫訂內寫開嗎從應該線條')
SIMP = set('们这个来说时会对还么为后过买卖号单运没请谢货问题里与点发关经现麻烦礼诞圣节坏错换给帮订内写开吗从应该线条')
YUE = ['咗', '啲', '冇', '嘅', '唔', '喺', '嚟', '佢', '畀', '俾', '㗎', '咩', '哋', '晒', '嘢', '乜', '咁', '而家', '點解']

errors = []


def err(f, msg):
    errors.append('%s: %s' % (f, msg))


def strip_html(s):
    s = re.sub(r'(?is)<(script|style|head).*?</\1>', ' ', s)
    s = re.sub(r'(?i)<br\s*/?>|</(p|div|tr|blockquote)>', '\n', s)
    s = re.sub(r'<[^>]+>', '', s)
    import html
    return html.unescape(s)


def detect_lang(text):
    # Only look at the buyer's text when the Amazon relay layout is present.
    m = re.search(r'-+ Message: -+(.*?)-+ End message -+', text, re.S)
    if m:
        text = m.group(1)
    cjk = CJK.findall(text)
    if len(cjk) < 8:
        return 'en'
    if sum(text.count(w) for w in YUE) >= 2:
        return 'yue'
    t = sum(c in TRAD for c in cjk)
    s = sum(c in SIMP for c in cjk)
    return 'zh-Hant' if t > s else 'zh-Hans'


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
    for f in files:
        if not re.fullmatch(r'b-\d{3}\.eml', f):
            err(f, 'bad file name')
    with open(os.path.join(d, 'labels.tsv'), newline='', encoding='utf-8') as fh:
        lines = fh.read().split('\n')
    if lines[0] != 'file\tcategory':
        err('labels.tsv', 'bad header %r' % lines[0])
    labels = {}
    for ln in lines[1:]:
        if not ln:
            continue
        parts = ln.split('\t')
        if len(parts) != 2:
            err('labels.tsv', 'bad row %r' % ln)
            continue
        if parts[0] in labels:
            err('labels.tsv', 'duplicate %s' % parts[0])
        if parts[1] not in CATS:
            err('labels.tsv', 'unknown category %r' % parts[1])
        labels[parts[0]] = parts[1]
    for f in set(files) - set(labels):
        err(f, 'not in labels.tsv')
    for f in set(labels) - set(files):
        err(f, 'listed in labels.tsv but missing')

    meta = {}
    mp = os.path.join(d, 'meta.tsv')
    if os.path.exists(mp):
        with open(mp, encoding='utf-8') as fh:
            for row in csv.DictReader(fh, delimiter='\t'):
                meta[row['file']] = row

    lo = datetime.datetime(2025, 11, 28, tzinfo=datetime.timezone.utc) - datetime.timedelta(hours=14)
    hi = datetime.datetime(2026, 1, 16, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=14)
    msgids = collections.Counter()
    matrix = collections.Counter()
    fmt = collections.Counter()
    n_oid = n_relay = n_crlf = n_att = 0
    for f in files:
        raw = open(os.path.join(d, f), 'rb').read()
        if b'\r\n' in raw:
            n_crlf += 1
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
        except Exception as e:  # pragma: no cover
            err(f, 'parse failed: %s' % e)
            continue
        if msg.defects:
            err(f, 'defects %r' % msg.defects)
        for h in REQUIRED:
            if msg[h] is None:
                err(f, 'missing header %s' % h)
        for h in ('From', 'To', 'Subject'):
            v = str(msg[h] or '')
            if '\ufffd' in v or '=?' in v:
                err(f, 'header %s not decoded cleanly: %r' % (h, v))
        msgids[msg['Message-ID']] += 1
        try:
            dt = email.utils.parsedate_to_datetime(msg['Date'])
            if not lo <= dt <= hi:
                err(f, 'date out of range %s' % dt)
        except Exception as e:
            err(f, 'bad Date: %s' % e)
        if '@marketplace.amazon.com' in str(msg['From']):
            n_relay += 1
        fmt['top:' + msg.get_content_type()] += 1
        plain, htmls = [], []
        for part in msg.walk():
            for dfct in part.defects:
                err(f, 'part defect %r' % dfct)
            if part.is_multipart():
                continue
            if part.get_content_disposition() == 'attachment':
                n_att += 1
                fmt['attachment:' + part.get_content_type()] += 1
                if not part.get_filename():
                    err(f, 'attachment without filename')
                continue
            if part.get_content_maintype() != 'text':
                err(f, 'unexpected inline part %s' % part.get_content_type())
                continue
            cs = part.get_content_charset()
            cte = part.get('Content-Transfer-Encoding', '7bit').lower()
            fmt['charset:%s/%s' % (cs, cte)] += 1
            payload = part.get_payload(decode=True)
            try:
                strict = payload.decode(cs)
            except Exception as e:
                err(f, 'strict decode with %s failed: %s' % (cs, e))
                continue
            content = part.get_content()
            if '\ufffd' in content or '\ufffd' in strict:
                err(f, 'replacement character in body')
            (plain if part.get_content_subtype() == 'plain' else htmls).append(content)
        text = '\n'.join(plain) if plain else strip_html('\n'.join(htmls))
        if not text.strip():
            err(f, 'empty body')
        if OID.search(text) or OID.search(str(msg['Subject'])):
            n_oid += 1
        lang = detect_lang(text)
        if f in meta and meta[f]['lang'] != lang:
            err(f, 'language heuristic says %s, meta.tsv says %s' % (lang, meta[f]['lang']))
        lang = meta[f]['lang'] if f in meta else lang
        matrix[(labels.get(f, '?'), lang)] += 1
    for mid, c in msgids.items():
        if c > 1:
            err('*', 'duplicate Message-ID %s' % mid)

    langs = ['en', 'zh-Hans', 'zh-Hant', 'yue']
    print('%-16s' % 'category' + ''.join('%9s' % l for l in langs) + '%8s' % 'total')
    for c in CATS:
        row = [matrix[(c, l)] for l in langs]
        print('%-16s' % c + ''.join('%9d' % x for x in row) + '%8d' % sum(row))
    tot = [sum(matrix[(c, l)] for c in CATS) for l in langs]
    print('%-16s' % 'total' + ''.join('%9d' % x for x in tot) + '%8d' % sum(tot))
    n = len(files)
    print('\nmessages: %d  amazon relay: %d (%.0f%%)  with order id: %d (%.0f%%)  CRLF files: %d  attachments: %d'
          % (n, n_relay, 100.0 * n_relay / n, n_oid, 100.0 * n_oid / n, n_crlf, n_att))
    if meta:
        st = collections.Counter(r['style'] for r in meta.values())
        print('style: %s' % ', '.join('%s=%d' % kv for kv in sorted(st.items())))
    print('format mix:')
    for k, v in sorted(fmt.items()):
        print('  %-40s %d' % (k, v))
    if errors:
        print('\nERRORS (%d):' % len(errors))
        for e in errors:
            print('  ' + e)
        return 1
    print('\nOK: all files parse, are labelled, and decode cleanly.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
