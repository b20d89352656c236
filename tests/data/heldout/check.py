#!/usr/bin/env python3
"""Sanity check for the peakq held-out evaluation set.

Verifies that every h-NNN.eml parses, that labels.tsv and the .eml files
match one to one, that all text parts (and Subject/From) decode strictly
without replacement characters, and prints counts per category x language
plus a summary of the formats used.

Usage: python3 check.py [DIR]      (exit status 1 on any problem)
"""
import codecs, collections, email, email.policy, email.utils, os, re, sys

CATEGORIES = ['late_delivery', 'lost_package', 'wrong_item', 'missing_item', 'damaged',
              'gift_options', 'return_exchange', 'complaint', 'general']
REQUIRED = ['Return-Path', 'From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']
OID = re.compile(r'(?<!\d)\d{3}-\d{7}-\d{7}(?!\d)')
# traditional / simplified character pairs used to tell the scripts apart
PAIRS = ('們们 這这 個个 說说 貨货 會会 還还 嗎吗 沒没 買买 來来 點点 為为 對对 時时 間间 問问 題题 發发 號号 '
         '單单 訂订 請请 謝谢 給给 裡里 東东 運运 麼么 該该 經经 幫帮 應应 從从 後后 幾几 兩两 開开 錯错 換换 '
         '樣样 讓让 話话 禮礼 費费 碼码 寫写 寄寄 樂乐 聖圣 誕诞 處处 麻麻 裝装 寶宝 們们 嚟嚟 現现 齊齐 塊块')
TRAD = set(p[0] for p in PAIRS.split() if p[0] != p[1])
SIMP = set(p[1] for p in PAIRS.split() if p[0] != p[1])
CANTO = set('嘅咗唔冇係嚟哋㗎喺嗰乜啲嫲㩒攞佢呢')
LO, HI = (2025, 11, 28), (2026, 1, 15)


def cjk(s):
    return sum(1 for c in s if '\u3400' <= c <= '\u9fff' or '\U00020000' <= c <= '\U0002ffff')


def lang_of(text):
    n = cjk(text)
    if n < 8:
        return 'en'
    t = sum(1 for c in text if c in TRAD)
    s = sum(1 for c in text if c in SIMP)
    if t > s:
        return 'zh-Hant(yue)' if any(c in CANTO for c in text) else 'zh-Hant'
    return 'zh-Hans'


def strict_text(part, errors):
    raw = part.get_payload(decode=True) or b''
    cs = part.get_content_charset() or 'us-ascii'
    try:
        codecs.lookup(cs)
    except LookupError:
        errors.append('unknown charset %s' % cs)
        return ''
    try:
        txt = raw.decode(cs)
    except UnicodeDecodeError as e:
        errors.append('strict decode failed (%s): %s' % (cs, e))
        txt = raw.decode(cs, 'replace')
    if '\ufffd' in txt:
        errors.append('replacement character in %s part' % part.get_content_type())
    # the email package's own decoding must agree
    if part.get_content().replace('\r\n', '\n') != txt.replace('\r\n', '\n'):
        errors.append('get_content() differs from strict decode')
    return txt


def main(d):
    problems = 0
    files = sorted(f for f in os.listdir(d) if f.endswith('.eml'))
    bad_names = [f for f in files if not re.fullmatch(r'h-\d{3}\.eml', f)]
    for f in bad_names:
        print('BAD NAME', f)
    problems += len(bad_names)

    with open(os.path.join(d, 'labels.tsv'), encoding='utf-8') as fh:
        lines = fh.read().split('\n')
    if lines[0] != 'file\tcategory':
        print('BAD HEADER in labels.tsv:', repr(lines[0]))
        problems += 1
    labels = {}
    for n, ln in enumerate(lines[1:], 2):
        if not ln:
            continue
        cols = ln.split('\t')
        if len(cols) != 2:
            print('labels.tsv:%d: expected 2 columns' % n)
            problems += 1
            continue
        if cols[0] in labels:
            print('labels.tsv:%d: duplicate %s' % (n, cols[0]))
            problems += 1
        if cols[1] not in CATEGORIES:
            print('labels.tsv:%d: unknown category %r' % (n, cols[1]))
            problems += 1
        labels[cols[0]] = cols[1]
    for f in sorted(set(files) - set(labels)):
        print('NOT LABELLED', f)
        problems += 1
    for f in sorted(set(labels) - set(files)):
        print('LABEL WITHOUT FILE', f)
        problems += 1

    table = collections.Counter()
    fmt = collections.Counter()
    mids, relay, with_oid, crlf, attach, empty_subj, enc_subj = set(), 0, 0, 0, 0, 0, 0
    for f in files:
        errors = []
        with open(os.path.join(d, f), 'rb') as fh:
            raw = fh.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if msg.defects:
            errors.append('defects: %s' % msg.defects)
        for h in REQUIRED:
            if msg[h] is None:
                errors.append('missing header ' + h)
        subj = str(msg['Subject'] or '')
        frm = str(msg['From'] or '')
        for name, val in (('Subject', subj), ('From', frm)):
            if '\ufffd' in val:
                errors.append('replacement character in ' + name)
        raw_subj = re.search(rb'^Subject:(.*(?:\r?\n[ \t].*)*)', raw, re.M)
        if raw_subj and b'=?' in raw_subj.group(1):
            enc_subj += 1
        if not subj.strip():
            empty_subj += 1
        mid = msg['Message-ID']
        if mid in mids:
            errors.append('duplicate Message-ID')
        mids.add(mid)
        try:
            dt = email.utils.parsedate_to_datetime(str(msg['Date']))
            if not (LO <= (dt.year, dt.month, dt.day) <= HI):
                errors.append('date out of range: %s' % dt)
        except Exception as e:  # noqa
            errors.append('bad Date: %s' % e)
        text = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_maintype() == 'text' and not part.is_attachment():
                text.append(strict_text(part, errors))
                fmt['%s %s %s' % (part.get_content_type(), part.get_content_charset(),
                                  part['Content-Transfer-Encoding'])] += 1
            elif part.is_attachment():
                attach += 1
                if not part.get_filename():
                    errors.append('attachment without filename')
                part.get_payload(decode=True)
        if not text:
            errors.append('no text part')
        body = '\n'.join(text)
        new = '\n'.join(l for l in body.split('\n') if not l.startswith('>'))
        lang = lang_of(subj + '\n' + new)
        if '@marketplace.amazon.com' in frm:
            relay += 1
            if '------------- Message: -------------' not in body:
                errors.append('relay message without Amazon layout')
        if OID.search(subj + body):
            with_oid += 1
        if b'\r\n' in raw:
            crlf += 1
        fmt['top-level ' + msg.get_content_type()] += 1
        cat = labels.get(f, '?')
        table[(cat, lang)] += 1
        for e in errors:
            print('%s: %s' % (f, e))
        problems += len(errors)

    langs = sorted({l for _, l in table})
    w = max(len(c) for c in CATEGORIES) + 2
    print('\n%-*s' % (w, 'category') + ''.join('%14s' % l for l in langs) + '%8s' % 'total')
    for c in CATEGORIES:
        row = [table[(c, l)] for l in langs]
        print('%-*s' % (w, c) + ''.join('%14d' % x for x in row) + '%8d' % sum(row))
    col = [sum(table[(c, l)] for c in CATEGORIES) for l in langs]
    print('%-*s' % (w, 'total') + ''.join('%14d' % x for x in col) + '%8d' % sum(col))
    n = len(files)
    print('\nmessages %d | Amazon relay %d (%.0f%%) | with 3-7-7 order id %d (%.0f%%) | CRLF %d | '
          'attachments %d | RFC 2047 subjects %d | empty subjects %d'
          % (n, relay, 100.0 * relay / n, with_oid, 100.0 * with_oid / n, crlf, attach, enc_subj, empty_subj))
    print('\nparts (type charset cte):')
    for k, v in sorted(fmt.items()):
        print('  %3d  %s' % (v, k))
    print('\n%s' % ('OK' if not problems else '%d PROBLEM(S)' % problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))))
