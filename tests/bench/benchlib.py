"""What the mail benchmarks (bench-latency.py, bench-drain.py) share: a
temporary folder with the real Dovecot and Postfix started on loopback by
tests/mailenv.sh, their settings, a peakq.yaml whose SMTP goes in plain
text to a given loopback port, and the clean-up (PQ_KEEP=1 keeps the
folder)."""
import base64
import email.header
import os
import re
import shutil
import subprocess
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def stored_flagged(db, after=0):
    """(messages stored, of them flagged on the server), counting rows past
    message id `after`, from the rowid and the partial index of unflagged
    rows only: imap_done sits after the raw message in each row, so
    reading it reads every message's overflow pages (137 MB at the
    drain's 10,000 messages), in the bench's process, on the daemon's two
    cores, as often as the bench polls."""
    (stored,) = db.execute("SELECT count(*) FROM message WHERE id > ?", (after,)).fetchone()
    (todo,) = db.execute("SELECT count(*) FROM message INDEXED BY message_imap_todo"
                         " WHERE imap_done = 0 AND id > ?", (after,)).fetchone()
    return stored, stored - todo


def read_env(path):
    """The PQ_ settings of a mailenv env file, as a dict."""
    env = {}
    for line in open(path):
        m = re.match(r"(PQ_[A-Z_]+)='(.*)'$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


class Servers:
    """Dovecot and Postfix in a fresh folder T (T/m is the mailenv)."""

    def __init__(self, prefix):
        self.T = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.T, 0o755)
        self.menv = os.path.join(self.T, "m")
        self.env_path = os.path.join(self.menv, "env")
        self.env = {}
        os.mkdir(self.menv)

    def start(self, name):
        """0, or the exit status for the benchmark (77: cannot run here)."""
        r = subprocess.run([os.path.join(SRC, "tests", "mailenv.sh"), "start", self.menv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print("%s: mail environment failed to start:\n%s" % (name, r.stderr[-2000:]))
            return 77 if r.returncode == 77 else 1
        self.env = read_env(self.env_path)
        return 0

    def config(self, smtp_port, poll_interval=None):
        """Write T/peakq.yaml (tests/peakq-config.sh) with SMTP in plain text
        to 127.0.0.1:smtp_port; returns its path."""
        subprocess.run([os.path.join(SRC, "tests", "peakq-config.sh"), self.env_path,
                        self.T, "implicit", "localhost"], check=True)
        y = os.path.join(self.T, "peakq.yaml")
        s = open(y).read()
        if poll_interval:
            s = re.sub(r"poll_interval: .*", "poll_interval: " + poll_interval, s)
        s = s[:s.index("smtp:")] + (
            "smtp:\n  url: smtp://127.0.0.1:%s/peakq.example\n  tls: none\n"
            "  from: \"Holiday Desk <support@example.test>\"\n" % smtp_port)
        if os.environ.get("BENCH_SMTP_CONNECTIONS"):  # default: peakq's
            s += "  connections: %s\n" % os.environ["BENCH_SMTP_CONNECTIONS"]
        open(y, "w").write(s)
        return y

    @property
    def imapc(self):
        """tests/imapc.py for these servers, as a command list."""
        return ["python3", os.path.join(SRC, "tests", "imapc.py"), self.env_path]

    def fill_inbox(self, n, rnd, first=0):
        """Write n messages (message(first..first+n-1)) straight into the
        support INBOX's Maildir, as its owner (faster than APPEND); returns
        their total size in bytes."""
        subprocess.run(self.imapc + ["count", "INBOX"], check=True,
                       stdout=subprocess.DEVNULL)  # Dovecot makes the Maildir
        md = None
        for root, dirs, files in os.walk(self.env["PQ_MAIL_DIR"]):
            if os.path.basename(root) == "Maildir" and "/support" in root:
                md = root
                break
        st = os.stat(md)
        total = 0
        now = int(time.time())
        for i in range(first, first + n):
            data = message(i, rnd).encode()
            total += len(data)
            p = os.path.join(md, "new", "%d.M%dP%d.bench" % (now, i, os.getpid()))
            with open(p, "wb") as f:
                f.write(data)
            os.chown(p, st.st_uid, st.st_gid)
        return total

    def close(self):
        subprocess.run([os.path.join(SRC, "tests", "mailenv.sh"), "stop", self.menv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.environ.get("PQ_KEEP"):
            shutil.rmtree(self.T, ignore_errors=True)
        else:
            print("kept " + self.T)


# Realistic customer mail: 2-40 KB (log-uniform), a third Chinese, plain,
# multipart/alternative or with an attachment, one customer each.
EN = ("where is my order it was a christmas gift for my daughter the tracking "
      "has not moved since monday please tell me when it will arrive the parcel "
      "says delivered but nothing is here I ordered two items and only one came "
      "the box was crushed and the glass is broken can I return it for a refund "
      "thank you for your help kind regards").split()
ZH = list("我的圣诞礼物还没到快递单号显示已签收但是我没有收到包裹破损了请尽快处理退货退款谢谢")


def text(rnd, size, zh):
    out, n = [], 0
    while n < size:
        if zh:
            w = "".join(rnd.choice(ZH) for _ in range(rnd.randint(4, 12)))
            n += len(w.encode())
        else:
            w = " ".join(rnd.choice(EN) for _ in range(rnd.randint(6, 14)))
            n += len(w)
        out.append(w)
    return "\n".join(out) + "\n"


def message(i, rnd):
    zh = i % 3 == 0
    size = int(2048 * (20 ** rnd.random()))  # 2 KB .. 40 KB, log-uniform
    subject = ("我的订单 %d 还没到" % i) if zh else ("Where is my order %d?" % i)
    head = ("Return-Path: <c%d@buyer.example>\nFrom: Customer %d <c%d@buyer.example>\n"
            "To: support@example.test\nMessage-ID: <drain-%d@buyer.example>\n"
            "Date: Mon, 28 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n" % (i, i, i, i))
    head += "Subject: %s\n" % email.header.Header(subject, "utf-8").encode()
    kind = i % 4
    if kind in (0, 1):
        return head + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + \
            text(rnd, size, zh)
    if kind == 2:
        body = text(rnd, size // 2, zh)
        html = "<html><body><p>" + body.replace("\n", "</p><p>") + "</p></body></html>"
        return head + ("Content-Type: multipart/alternative; boundary=alt\n\n--alt\n"
                       "Content-Type: text/plain; charset=utf-8\n\n%s\n--alt\n"
                       "Content-Type: text/html; charset=utf-8\n\n%s\n--alt--\n" % (body, html))
    att = base64.encodebytes(os.urandom(size // 3)).decode()
    return head + ("Content-Type: multipart/mixed; boundary=mix\n\n--mix\n"
                   "Content-Type: text/plain; charset=utf-8\n\n%s\n--mix\n"
                   "Content-Type: image/jpeg; name=photo.jpg\nContent-Transfer-Encoding: base64\n\n%s--mix--\n"
                   % (text(rnd, size // 2, zh), att))
