#!/usr/bin/env python3
"""Generate the peakq labelled evaluation set (.eml files + labels.tsv)."""
import base64, binascii, datetime as dt, html, os, quopri, random, re, struct, sys, zlib
import importlib
from email.utils import format_datetime
from urllib.parse import quote as urlquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec

OUT = sys.argv[1] if len(sys.argv) > 1 else '/work/main/tests/data/labelled'

for mod in ['c_en_a', 'c_en_b', 'c_en_c', 'c_zh_a', 'c_zh_b', 'c_zh_c', 'overrides']:
    importlib.import_module(mod)

rnd = random.Random(20251128)

# ----------------------------------------------------------------- helpers

def gen_oid():
    pre = rnd.choice(['111', '112', '113', '114', '113', '112', '111', '114', '702', '026', '205'])
    return '%s-%07d-%07d' % (pre, rnd.randint(0, 9999999), rnd.randint(0, 9999999))


def relay_alias():
    n = rnd.randint(13, 16)
    return ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


EN_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example.com', 'example.com', 'example.net']
ZH_DOMAINS = ['example.cn', 'mail.example.cn', 'example.com', 'vip.example.cn', 'example.net', 'example.cn']
TW_DOMAINS = ['example.tw', 'example.com.tw', 'ms1.example.tw', 'example.com', 'example.net']
ZH_HANDLES = ['2874615530', 'sunny_2019', 'bluesky88', 'momo1314', 'xiaoyu0612', 'happy.cat', 'qq_4781263',
              'mumu_2020', '1387766412', 'dingding', 'lemon_tree', 'aa123456cn', 'summer.rain', 'x1aox1ao',
              'panda_love', 'starry.night', 'tianxin', 'hl19871203', 'muzi2016', 'jojo_88', 'kk.2025']
TW_HANDLES = ['kiki0918', 'blueberry.tw', 'catlover22', 'mountain.rain', 'ivy_0305', 'tofu1122',
              'pudding.box', 'sunflower77', 'bubble.tea', 'moonlight.hk']


def lang_of(fn):
    if fn.startswith('zh-tw-') or fn.startswith('zh-hk-'):
        return 'zht'
    if fn.startswith('zh-'):
        return 'zh'
    return 'en'


def en_addr(name):
    parts = re.sub(r'[^A-Za-z ]', '', name).lower().split()
    if not parts:
        parts = ['buyer']
    style = rnd.randint(0, 4)
    if style == 0 and len(parts) > 1:
        local = parts[0] + '.' + parts[-1]
    elif style == 1 and len(parts) > 1:
        local = parts[0][0] + parts[-1] + str(rnd.randint(1, 99))
    elif style == 2:
        local = parts[0] + str(rnd.randint(70, 2005))
    elif style == 3 and len(parts) > 1:
        local = parts[0] + '_' + parts[-1][:3]
    else:
        local = parts[0] + '.' + str(rnd.randint(10, 999))
    return local + '@' + rnd.choice(EN_DOMAINS)


CAT_DATES = {
    'late_delivery': ('2025-11-29', '2026-01-08'),
    'lost_package': ('2025-12-04', '2026-01-12'),
    'wrong_item': ('2025-12-02', '2026-01-13'),
    'missing_item': ('2025-12-02', '2026-01-13'),
    'damaged': ('2025-12-02', '2026-01-14'),
    'gift_options': ('2025-11-28', '2025-12-21'),
    'return_exchange': ('2025-12-10', '2026-01-15'),
    'complaint': ('2025-12-06', '2026-01-15'),
    'general': ('2025-11-28', '2026-01-15'),
}

EN_TZ = [-5, -5, -6, -8, -5, -7, -8, -6, -5, 0, -4]


def pick_date(m, lang):
    if m['tz'] is not None:
        off = m['tz']
    elif lang == 'en':
        off = rnd.choice(EN_TZ)
    else:
        off = 8
    tz = dt.timezone(dt.timedelta(hours=off))
    if m['date']:
        d = dt.datetime.strptime(m['date'], '%Y-%m-%d %H:%M').replace(tzinfo=tz)
        d = d.replace(second=rnd.randint(0, 59))
    else:
        a, b = CAT_DATES[m['cat']]
        a = dt.date.fromisoformat(a); b = dt.date.fromisoformat(b)
        day = a + dt.timedelta(days=rnd.randint(0, (b - a).days))
        hour = rnd.choice([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 0, 1])
        d = dt.datetime(day.year, day.month, day.day, hour, rnd.randint(0, 59), rnd.randint(0, 59), tzinfo=tz)
    lo = dt.datetime(2025, 11, 28, tzinfo=dt.timezone.utc)
    hi = dt.datetime(2026, 1, 16, tzinfo=dt.timezone.utc)
    assert lo <= d < hi, (m['fn'], d)
    return d


EN_DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
EN_DOWL = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
ZH_DOW = ['周一', '周二', '周三', '周四', '周五', '周六', '周日']
ZH_DOWL = ['星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日']
TW_DOW = ['週一', '週二', '週三', '週四', '週五', '週六', '週日']


def qdate(kind, s):
    d = dt.datetime.strptime(s, '%Y-%m-%d %H:%M')
    h12 = d.hour % 12 or 12
    ampm = 'AM' if d.hour < 12 else 'PM'
    if kind == 'QEN':
        return '%s, %s %d, %d at %d:%02d %s' % (EN_DOW[d.weekday()], d.strftime('%b'), d.day, d.year, h12, d.minute, ampm)
    if kind == 'QOL':
        return '%s, %s %d, %d %d:%02d %s' % (EN_DOWL[d.weekday()], d.strftime('%B'), d.day, d.year, h12, d.minute, ampm)
    if kind == 'QZH':
        return '%d年%d月%d日 %s %02d:%02d' % (d.year, d.month, d.day, ZH_DOW[d.weekday()], d.hour, d.minute)
    if kind == 'QZHOL':
        return '%d年%d月%d日(%s) %s%d:%02d' % (d.year, d.month, d.day, ZH_DOWL[d.weekday()], '上午' if d.hour < 12 else '下午', h12, d.minute)
    if kind == 'QTW':
        return '%d年%d月%d日 %s %s%d:%02d' % (d.year, d.month, d.day, TW_DOW[d.weekday()], '上午' if d.hour < 12 else '下午', h12, d.minute)
    raise ValueError(kind)


def fill(text, ctx):
    text = text.replace('{OID}', ctx['oid']).replace('{OID2}', ctx['oid2'])
    text = re.sub(r'\{(QEN|QOL|QZH|QZHOL|QTW):([0-9-]+ [0-9:]+)\}', lambda mo: qdate(mo.group(1), mo.group(2)), text)
    assert '{' not in text or '{' in text and not re.search(r'\{[A-Z]+[:}]', text), text
    return text


# ----------------------------------------------------------------- encodings

def codec(cs):
    return {'us-ascii': 'ascii', 'windows-1252': 'cp1252', 'iso-8859-1': 'latin-1',
            'big5-hkscs': 'big5hkscs'}.get(cs.lower(), cs.lower())


def can_encode(text, cs):
    try:
        text.encode(codec(cs))
        return True
    except UnicodeEncodeError:
        return False


def cs_label(cs):
    # realistic casing variety of charset labels
    return {'utf-8': rnd.choice(['UTF-8', 'utf-8', 'UTF-8', '"UTF-8"', '"utf-8"']),
            'gb2312': rnd.choice(['gb2312', 'GB2312', '"gb2312"', '"GB2312"']),
            'gbk': rnd.choice(['GBK', 'gbk', '"GBK"']),
            'gb18030': rnd.choice(['GB18030', 'gb18030', '"GB18030"']),
            'big5': rnd.choice(['big5', 'Big5', 'BIG5', '"big5"']),
            'big5-hkscs': '"Big5-HKSCS"',
            'us-ascii': rnd.choice(['us-ascii', '"us-ascii"', 'US-ASCII']),
            'windows-1252': rnd.choice(['windows-1252', '"Windows-1252"', '"windows-1252"']),
            'iso-8859-1': rnd.choice(['iso-8859-1', 'ISO-8859-1', '"iso-8859-1"'])}[cs]


def encode_body(text, cs, cte):
    raw = text.encode(codec(cs))
    if cte in ('7bit', '8bit'):
        cte = '7bit' if raw.isascii() else '8bit'
        body = raw
    elif cte == 'base64':
        body = base64.encodebytes(raw)
    elif cte == 'qp':
        cte = 'quoted-printable'
        body = quopri.encodestring(raw)
    else:
        raise ValueError(cte)
    if not body.endswith(b'\n'):
        body += b'\n'
    return cte, body


def ew_b(s, cs):
    out, cur = [], ''
    lab = cs.upper() if rnd.random() < 0.6 else cs.lower()
    for ch in s:
        trial = cur + ch
        enc = base64.b64encode(trial.encode(codec(cs))).decode()
        if len('=?%s?B?%s?=' % (lab, enc)) > 75 and cur:
            out.append('=?%s?B?%s?=' % (lab, base64.b64encode(cur.encode(codec(cs))).decode()))
            cur = ch
        else:
            cur = trial
    if cur:
        out.append('=?%s?B?%s?=' % (lab, base64.b64encode(cur.encode(codec(cs))).decode()))
    return '\n '.join(out)


def q_char(ch, cs):
    if ch == ' ':
        return '_'
    if ch.isascii() and (ch.isalnum() or ch in '!*+-/'):
        return ch
    return ''.join('=%02X' % b for b in ch.encode(codec(cs)))


def ew_q(s, cs):
    out, cur = [], ''
    lab = cs.upper() if cs.lower() == 'utf-8' else cs
    for ch in s:
        piece = q_char(ch, cs)
        if len('=?%s?Q?%s%s?=' % (lab, cur, piece)) > 75 and cur:
            out.append('=?%s?Q?%s?=' % (lab, cur))
            cur = piece
        else:
            cur += piece
    if cur:
        out.append('=?%s?Q?%s?=' % (lab, cur))
    return '\n '.join(out)


def enc_header_text(s, cs, lang):
    if s.isascii():
        return s
    hcs = cs if cs not in ('us-ascii',) and can_encode(s, cs) else 'utf-8'
    if hcs in ('iso-8859-1', 'windows-1252') or (hcs == 'utf-8' and lang == 'en'):
        return ew_q(s, hcs)
    if hcs == 'utf-8' and rnd.random() < 0.35:
        return ew_q(s, hcs)
    return ew_b(s, hcs)


def fmt_from(name, addr, cs, lang):
    if name.isascii():
        if re.search(r'[^A-Za-z0-9 ]', name) or rnd.random() < 0.6:
            return '"%s" <%s>' % (name, addr)
        return '%s <%s>' % (name, addr)
    return '%s <%s>' % (enc_header_text(name, cs, lang), addr)


# ----------------------------------------------------------------- HTML

def esc(line):
    t = html.escape(line, quote=False)
    t = re.sub(r'  ', ' &nbsp;', t)
    return t


def group_quotes(lines):
    """yield ('t', line) or ('q', [lines without one > level])"""
    blocks, q = [], None
    for ln in lines:
        if ln.startswith('>'):
            if q is None:
                q = []
                blocks.append(('q', q))
            q.append(re.sub(r'^> ?', '', ln))
        else:
            q = None
            blocks.append(('t', ln))
    return blocks


def html_lines(lines, style):
    out = []
    for kind, v in group_quotes(lines):
        if kind == 'q':
            inner = html_lines(v, style)
            if style == 'outlook':
                out.append('<div style=\'border:none;border-left:solid #CCCCCC 1.0pt;padding:0in 0in 0in 6.0pt;margin-left:4.8pt;margin-right:0in\'>' + inner + '</div>')
            else:
                out.append('<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">' + inner + '</blockquote>')
            continue
        ln = v
        if style == 'outlook':
            out.append('<p class=MsoNormal>%s</p>' % (esc(ln) + '<o:p></o:p>' if ln.strip() else '<o:p>&nbsp;</o:p>'))
        elif style in ('qq', 'foxmail'):
            out.append('<div>%s</div>' % (esc(ln) if ln.strip() else '<br>'))
        elif style == 'apple':
            out.append('<div dir="ltr">%s</div>' % (esc(ln) if ln.strip() else '<br>'))
        elif style == 'amazon':
            out.append('%s<br>' % (esc(ln) if ln.strip() else ''))
        else:  # gmail / entity
            out.append('<div>%s</div>' % (esc(ln) if ln.strip() else '<br>'))
    return '\n'.join(out)


def to_html(text, style, cs):
    lines = text.split('\n')
    body = html_lines(lines, style)
    if style == 'outlook':
        h = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
             'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
             'xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; charset=%s">'
             '<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--\n'
             '/* Font Definitions */\n@font-face\n\t{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n'
             '@font-face\n\t{font-family:Calibri;\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}\n'
             '/* Style Definitions */\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0in;\n\tfont-size:11.0pt;\n\tfont-family:"Calibri",sans-serif;}\n'
             '.MsoChpDefault\n\t{mso-style-type:export-only;}\n@page WordSection1\n\t{size:8.5in 11.0in;\n\tmargin:1.0in 1.0in 1.0in 1.0in;}\n'
             'div.WordSection1\n\t{page:WordSection1;}\n--></style></head>'
             '<body lang=EN-US link="#0563C1" vlink="#954F72" style=\'word-wrap:break-word\'><div class=WordSection1>\n'
             '%s\n</div></body></html>\n') % (cs, body)
    elif style == 'qq':
        h = ('<meta http-equiv="Content-Type" content="text/html; charset=%s">'
             '<div style="font-family: 微软雅黑, Microsoft YaHei; font-size: 14px; line-height: 1.5; color: #000000;">\n%s\n</div>\n'
             % (cs, body)) if can_encode('微软雅黑', cs) else (
             '<meta http-equiv="Content-Type" content="text/html; charset=%s">'
             '<div style="font-family: Microsoft YaHei, sans-serif; font-size: 14px; line-height: 1.5;">\n%s\n</div>\n' % (cs, body))
    elif style == 'foxmail':
        h = ('<html><head><meta http-equiv="content-type" content="text/html; charset=%s"><style>body { line-height: 1.5; }'
             'blockquote { margin-top: 0px; margin-bottom: 0px; margin-left: 0.5em; }body { font-size: 14px; '
             'font-family: \'Microsoft YaHei UI\'; color: rgb(0, 0, 0); line-height: 1.5; }</style></head><body>\n'
             '%s\n<div><br></div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">\n'
             '</body></html>\n') % (cs, body)
    elif style == 'apple':
        h = ('<html><head><meta http-equiv="content-type" content="text/html; charset=%s"></head>'
             '<body dir="auto">%s</body></html>\n') % (cs, body)
    elif style == 'amazon':
        h = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=%s"></head><body>'
             '<table width="100%%" cellpadding="0" cellspacing="0" border="0"><tr><td style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#0F1111;padding:16px">\n'
             '%s\n</td></tr></table></body></html>\n') % (cs, body)
    else:  # gmail, entity
        h = '<div dir="ltr">%s</div>\n' % body
    if style == 'entity':
        h = ''.join(c if c.isascii() else '&#%d;' % ord(c) for c in h)
    return h


# ----------------------------------------------------------------- attachments

def png_bytes(seed):
    r = random.Random(seed)
    w = h = r.choice([12, 16, 20])
    base = [r.randint(60, 230) for _ in range(3)]
    raw = b''
    for y in range(h):
        raw += b'\x00'
        for x in range(w):
            raw += bytes(max(0, min(255, c + r.randint(-25, 25) + (x + y) * 2)) for c in base)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def pdf_bytes(title):
    stream = ('BT /F1 11 Tf 24 60 Td (%s) Tj ET' % title).encode('ascii')
    objs = [b'<</Type/Catalog/Pages 2 0 R>>', b'<</Type/Pages/Kids[3 0 R]/Count 1>>',
            b'<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 120]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>',
            b'<</Length %d>>stream\n' % len(stream) + stream + b'\nendstream',
            b'<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>']
    out = b'%PDF-1.4\n'
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b'%d 0 obj\n' % i + o + b'\nendobj\n'
    x = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    for o in offs:
        out += b'%010d 00000 n \n' % o
    out += b'trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, x)
    return out


# ----------------------------------------------------------------- relay layout

RELAY_FOOT = [
    ('For Your Information: To help arrive at the best solution, we encourage you to respond directly to the '
     'buyer by replying to this email. When responding to buyers, do not include links or attachments '
     'unrelated to the order.\n\nWe hope you found this message to be useful. However, if you\'d rather not '
     'receive future e-mails of this type from Amazon.com, please opt out here.\n\n'
     'Copyright 2025 Amazon, Inc. or its affiliates. All rights reserved.\n'
     'Amazon.com, 410 Terry Avenue North, Seattle, WA 98109-5210'),
    ('To respond to this customer, reply to this e-mail or visit your seller account at the following link:\n'
     'https://sellercentral.amazon.com/messaging/inbox\n\n'
     'Sincerely,\nCustomer Services Department\nAmazon.com\nhttps://sellercentral.amazon.com\n\n'
     'Was this email helpful?'),
]


def relay_wrap(text, oid, item, variant):
    asin = 'B0' + ''.join(rnd.choice('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789') for _ in range(8))
    if variant == 0:
        head = 'Order ID: %s\nItem: %s\nQuantity: 1\n\n------------- Message: -------------\n\n' % (oid, item)
        return head + text + '\n\n------------- End message -------------\n\n' + RELAY_FOOT[0] + '\n'
    if variant == 1:
        head = 'Order ID: %s:\n1 of %s [ASIN: %s]\n\n------------- Begin message -------------\n\n' % (oid, item, asin)
        return head + text + '\n\n------------- End message -------------\n\n' + RELAY_FOOT[1] + '\n'
    if variant == 3:
        return ('------------- Message: -------------\n\nASIN: %s\nProduct name: %s\n\n' % (asin, item) + text
                + '\n\n------------- End message -------------\n\n' + RELAY_FOOT[0] + '\n')
    head = '------------- Message: -------------\n\n'
    return (head + text + '\n\n------------- End message -------------\n\nOrder ID: %s\nItem: %s\nASIN: %s\n\n' % (oid, item, asin)
            + RELAY_FOOT[0] + '\n')


# ----------------------------------------------------------------- assembly

ROT = {
    'en_ascii': ['us-ascii/7bit', 'us-ascii/7bit', 'utf-8/7bit', 'windows-1252/7bit', 'iso-8859-1/7bit', 'utf-8/qp', 'us-ascii/7bit'],
    'en_latin1': ['iso-8859-1/qp', 'windows-1252/8bit', 'utf-8/qp', 'iso-8859-1/8bit'],
    'en_cp1252': ['windows-1252/qp', 'utf-8/qp', 'windows-1252/8bit', 'utf-8/base64'],
    'en_utf8': ['utf-8/qp', 'utf-8/8bit', 'utf-8/base64'],
    'en_relay': ['utf-8/7bit', 'utf-8/qp'],
    'zh': ['gb2312/base64', 'gbk/base64', 'utf-8/base64', 'gb18030/base64', 'utf-8/8bit', 'gbk/8bit',
           'utf-8/qp', 'gb2312/8bit', 'gb2312/qp', 'gb18030/8bit'],
    'zht': ['big5/base64', 'big5/8bit', 'utf-8/base64', 'big5/qp', 'big5/base64', 'utf-8/8bit'],
    'zh_relay': ['utf-8/base64', 'utf-8/qp', 'utf-8/8bit'],
}
FMT = {'en': ['plain', 'alt', 'plain', 'html', 'plain', 'alt', 'plain', 'plain', 'html', 'alt'],
       'zh': ['plain', 'alt', 'html', 'plain', 'plain', 'alt', 'plain', 'html'],
       'relay': ['plain', 'alt', 'plain', 'plain', 'alt']}
HSTYLE = {'en': ['gmail', 'outlook', 'apple', 'gmail', 'outlook', 'entity'],
          'zh': ['qq', 'foxmail', 'gmail', 'outlook', 'qq', 'apple'],
          'zht': ['gmail', 'outlook', 'apple', 'gmail']}
counters = {}


def rot(key):
    i = counters.get(key, 0)
    counters[key] = i + 1
    lst = ROT.get(key) or FMT.get(key) or HSTYLE.get(key)
    return lst[i % len(lst)]


def choose_enc(m, lang, text):
    if m['enc']:
        cs, cte = m['enc'].split('/')
        assert can_encode(text, cs), (m['fn'], cs)
        return cs, cte
    if m['relay']:
        key = 'zh_relay' if lang != 'en' else 'en_relay'
        cs, cte = rot(key).split('/')
        if lang == 'en' and not text.isascii():
            cte = 'qp'
        return cs, cte
    if lang == 'en':
        if text.isascii():
            key = 'en_ascii'
        elif can_encode(text, 'iso-8859-1'):
            key = 'en_latin1'
        elif can_encode(text, 'windows-1252'):
            key = 'en_cp1252'
        else:
            key = 'en_utf8'
    else:
        key = lang
    lst = ROT[key]
    start = counters.get(key, 0)
    counters[key] = start + 1
    for k in range(len(lst)):
        cs, cte = lst[(start + k) % len(lst)].split('/')
        if can_encode(text, cs):
            return cs, cte
    return 'utf-8', 'base64'


def boundary(style):
    h = ''.join(rnd.choice('0123456789abcdef') for _ in range(28))
    if style == 'outlook':
        return '----=_NextPart_000_%04X_01DC%s.%s' % (rnd.randint(0, 0xffff), h[:4].upper(), h[4:12].upper())
    if style == 'apple':
        return 'Apple-Mail-%s-%s' % (h[:8].upper(), h[8:12].upper())
    if style in ('qq', 'foxmail'):
        return '----=_NextPart_%s_%s' % (h[:8].upper(), h[8:16].upper())
    if style == 'amazon':
        return '----=_Part_%d_%d.%d' % (rnd.randint(100000, 9999999), rnd.randint(100000, 9999999), rnd.randint(10**12, 10**13))
    return '000000000000' + h[:16]


def text_part(text, cs, cte, subtype):
    cte2, body = encode_body(text, cs, cte)
    hdr = 'Content-Type: text/%s; charset=%s\nContent-Transfer-Encoding: %s\n' % (subtype, cs_label(cs), cte2)
    return hdr.encode('ascii') + b'\n' + body


def build(m, idx):
    lang = lang_of(m['fn'])
    ctx = {'oid': gen_oid(), 'oid2': gen_oid()}
    text = fill(m['body'], ctx)
    date = pick_date(m, lang)
    relay = m['relay']
    if relay:
        alias = relay_alias()
        addr = alias + '@marketplace.amazon.com'
        name = m['name'] or 'Amazon Customer'
        if m['layout'] is not None:
            variant = m['layout']
        else:
            variant = idx % 3
        text = relay_wrap(text, ctx['oid'], m['item'] or 'Item', variant)
    else:
        name = m['name']
        if m['addr']:
            addr = m['addr']
        elif lang == 'en':
            addr = en_addr(name)
        elif name.isascii():
            addr = en_addr(name).split('@')[0] + '@' + rnd.choice(ZH_DOMAINS if lang == 'zh' else TW_DOMAINS)
        elif lang == 'zh':
            addr = rnd.choice(ZH_HANDLES) + '@' + rnd.choice(ZH_DOMAINS)
        else:
            addr = rnd.choice(TW_HANDLES) + '@' + rnd.choice(TW_DOMAINS)
    cs, cte = choose_enc(m, lang, text + (m['subj'] or ''))
    # structure
    if m['fmt']:
        fmt = m['fmt']
    elif relay:
        fmt = FMT['relay'][counters.setdefault('relayfmt', 0) % 5]; counters['relayfmt'] += 1
    else:
        key = 'en' if lang == 'en' else 'zh'
        fmt = FMT[key][counters.setdefault('fmt' + key, 0) % len(FMT[key])]; counters['fmt' + key] += 1
    mobile = bool(re.search(r'Sent from my iPhone|发自我的iPhone|從我的 ?iPhone 傳送|Sent from my iPad', text))
    if relay:
        hstyle = 'amazon'
    elif m['hstyle']:
        hstyle = m['hstyle']
    elif mobile:
        hstyle = 'apple'
    else:
        key = lang
        hstyle = HSTYLE[key][counters.setdefault('hs' + key, 0) % len(HSTYLE[key])]; counters['hs' + key] += 1
    if hstyle == 'entity' and fmt != 'plain':
        cs = 'us-ascii'
        cte = '7bit'
    if hstyle == 'entity' and not text.isascii():
        # the plain alternative must still carry the real characters
        pass

    # subject
    if m['subj'] is None and m['layout'] == 3:
        first = name.split()[0] if name.isascii() else name
        subj = 'Product details inquiry from Amazon customer %s' % first
    elif m['subj'] is None:
        assert relay, m['fn']
        first = name.split()[0] if name.isascii() else name
        subj = rnd.choice(['Inquiry from Amazon customer %s (Order: %s)',
                           'Inquiry from Amazon customer %s (Order: %s)',
                           'Additional information from Amazon customer %s (Order: %s)',
                           'Inquiry from Amazon customer %s (Order: %s)']) % (first, ctx['oid'])
    else:
        subj = fill(m['subj'], ctx)

    hdrs = []
    rp_addr = addr
    if relay and rnd.random() < 0.4:
        rp_addr = '0100019%s-%s-000000@amazonses.com' % (''.join(rnd.choice('0123456789abcdef') for _ in range(9)),
                                                         ''.join(rnd.choice('0123456789abcdef') for _ in range(8)))
    hdrs.append('Return-Path: <%s>' % rp_addr)
    if rnd.random() < 0.5:
        hdrs.append('Delivered-To: support@example.test')
    if rnd.random() < 0.6:
        ip = rnd.choice(['192.0.2.', '198.51.100.', '203.0.113.']) + str(rnd.randint(2, 250))
        dom_ = addr.split('@')[1]
        src = 'a%d-%d.smtp-out.amazonses.com' % (rnd.randint(8, 48), rnd.randint(1, 250)) if relay else (dom_ if dom_.startswith(('mail.', 'ms1.', 'vip.')) else 'mail.' + dom_)
        hdrs.append('Received: from %s (%s [%s])\n\tby mx.example.test (Postfix) with ESMTPS id %s\n\tfor <support@example.test>; %s'
                    % (src, src, ip, ''.join(rnd.choice('0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz') for _ in range(12)),
                       format_datetime(date + dt.timedelta(seconds=rnd.randint(2, 40)))))
    hdrs.append('From: ' + fmt_from(name, addr, cs if cs != 'us-ascii' else 'utf-8', lang))
    to = m['to'] or ('support@example.test' if rnd.random() < 0.8 else rnd.choice([
        '"Northpine Home Support" <support@example.test>', 'Support <support@example.test>',
        'orders@example.test', '"Lumi Kids" <help@example.test>']))
    hdrs.append('To: ' + to)
    subj_h = enc_header_text(subj, cs if cs != 'us-ascii' else 'utf-8', lang)
    hdrs.append('Subject: ' + subj_h if subj_h else 'Subject:')
    hdrs.append('Date: ' + format_datetime(date))
    dom = 'email.amazonses.com' if relay else (addr.split('@')[1] if rnd.random() < 0.5 else rnd.choice(['mail.example.com', 'mx.example.net', 'smtp.example.cn' if lang != 'en' else 'mail.example.org']))
    mid = '%s.%s@%s' % (''.join(rnd.choice('0123456789abcdef') for _ in range(16)), ''.join(rnd.choice('0123456789ABCDEFabcdef') for _ in range(10)), dom)
    hdrs.append('Message-ID: <%s>' % mid)
    if subj.lower().startswith(('re:', 'aw:', '回复', '回覆', 'fw:', 'fwd:')) or re.search(r'^(On .* wrote:|>|-----Original Message-----|在 .*写道|於 .*寫道|-+ ?原始邮件)', text, re.M):
        ref = '<%s@mail.example.test>' % ''.join(rnd.choice('0123456789abcdef') for _ in range(24))
        hdrs.append('In-Reply-To: ' + ref)
        hdrs.append('References: ' + ref)
    mailer = m['mailer']
    if mailer is None and not relay:
        mailer = {'outlook': 'X-Mailer: Microsoft Outlook 16.0', 'foxmail': 'X-Mailer: Foxmail 7.2.25.375[cn]',
                  'qq': 'X-QQ-MIME: TCMime 1.0 by Tencent\nX-Mailer: QQMail 2.x', 'apple': 'X-Mailer: iPhone Mail (23C55)' if mobile else 'X-Mailer: Apple Mail (2.3826.200.121)'}.get(hstyle)
        if fmt == 'plain' and not mobile:
            mailer = rnd.choice([None, None, 'User-Agent: Mozilla Thunderbird', mailer])
        if mobile:
            mailer = 'X-Mailer: iPhone Mail (23C55)'
    if mailer:
        hdrs.append(mailer)
    if mailer and 'Outlook' in mailer:
        hdrs.append('Thread-Index: ' + base64.b64encode(bytes(rnd.randint(0, 255) for _ in range(22))).decode())
        hdrs.append('Content-Language: ' + ('en-us' if lang == 'en' else 'zh-cn' if lang == 'zh' else 'zh-tw'))
    hdrs.append('MIME-Version: 1.0')

    # body parts
    def main_part():
        if fmt == 'plain':
            return text_part(text, cs, cte, 'plain')
        if fmt == 'html':
            return text_part(to_html(text, hstyle, cs_plain_label(cs)), cs, cte, 'html')
        # alt
        b = boundary(hstyle)
        pcs, pcte = cs, cte
        if hstyle == 'entity' and not text.isascii():
            pcs, pcte = 'utf-8', 'qp'
        p1 = text_part(text, pcs, pcte, 'plain')
        p2 = text_part(to_html(text, hstyle, cs_plain_label(cs)), cs, cte, 'html')
        return (('Content-Type: multipart/alternative;\n\tboundary="%s"\n\n' % b).encode()
                + b'--' + b.encode() + b'\n' + p1 + b'\n--' + b.encode() + b'\n' + p2 + b'\n--' + b.encode() + b'--\n')

    mp = main_part()
    if m['attach']:
        b = boundary(hstyle)
        att = m['attach']
        if att.startswith('png'):
            data = png_bytes(m['fn'])
            if att.startswith('png-zh'):
                fname = att.split(':', 1)[1] if ':' in att else rnd.choice(['收到的商品.png', '照片.png', 'IMG_20251220.png'])
                adisp = ('Content-Type: image/png; name="%s"\nContent-Disposition: attachment; filename*=UTF-8\'\'%s\n'
                         % (ew_b(fname, 'utf-8'), urlquote(fname.encode('utf-8'))))
            else:
                fname = rnd.choice(['IMG_%04d.PNG' % rnd.randint(1000, 9999), 'photo.png', 'Screenshot_20251219-142233.png', 'image0.png'])
                adisp = 'Content-Type: image/png; name="%s"\nContent-Disposition: attachment; filename="%s"\n' % (fname, fname)
        else:
            data = pdf_bytes('Order %s' % ctx['oid'])
            fname = att.split(':', 1)[1] if ':' in att else rnd.choice(['receipt.pdf', 'Invoice_%s.pdf' % ctx['oid']])
            if fname.isascii():
                adisp = 'Content-Type: application/pdf; name="%s"\nContent-Disposition: attachment; filename="%s"\n' % (fname, fname)
            else:
                adisp = ('Content-Type: application/octet-stream; name="%s"\nContent-Disposition: attachment; filename="%s"\n'
                         % (ew_b(fname, cs if can_encode(fname, cs) else 'utf-8'), ew_b(fname, cs if can_encode(fname, cs) else 'utf-8')))
        ap = adisp.encode() + b'Content-Transfer-Encoding: base64\n\n' + base64.encodebytes(data)
        body = (('Content-Type: multipart/mixed;\n\tboundary="%s"\n\n' % b).encode()
                + b'This is a multi-part message in MIME format.\n\n'
                + b'--' + b.encode() + b'\n' + mp + b'\n--' + b.encode() + b'\n' + ap + b'\n--' + b.encode() + b'--\n')
    else:
        body = mp
    # headers of main part become top-level headers
    head_txt, rest = body.split(b'\n\n', 1)
    # (head_txt are the Content-* headers of the top entity)
    msg = '\n'.join(hdrs).encode('ascii') + b'\n' + head_txt + b'\n\n' + rest
    if m['crlf']:
        msg = msg.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    info = dict(fn=m['fn'] + '.eml', cat=m['cat'], lang=lang, cs=cs, cte=cte, fmt=fmt + ('+' + m['attach'] if m['attach'] else ''),
                hstyle=hstyle, relay=relay, crlf=m['crlf'], hard=m['hard'], oid=('{OID}' in m['body']) or (relay and m['layout'] != 3))
    return msg, info


def cs_plain_label(cs):
    return cs


def main():
    os.makedirs(OUT, exist_ok=True)
    seen = set()
    infos = []
    for i, m in enumerate(spec.MSGS):
        assert m['fn'] not in seen, m['fn']
        seen.add(m['fn'])
        msg, info = build(m, i)
        with open(os.path.join(OUT, m['fn'] + '.eml'), 'wb') as f:
            f.write(msg)
        infos.append(info)
    with open(os.path.join(OUT, 'labels.tsv'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('file\tcategory\n')
        for inf in sorted(infos, key=lambda x: x['fn']):
            f.write('%s\t%s\n' % (inf['fn'], inf['cat']))
    import json
    with open('/tmp/peakq-gen/manifest.json', 'w') as f:
        json.dump(infos, f, ensure_ascii=False, indent=0)
    print('wrote', len(infos))


if __name__ == '__main__':
    main()
