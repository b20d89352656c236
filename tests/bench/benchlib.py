"""What the mail benchmarks (bench-latency.py, bench-drain.py) share: a
temporary folder with the real Dovecot and Postfix started on loopback by
tests/mailenv.sh, their settings, a peakq.yaml whose SMTP goes in plain
text to a given loopback port, and the clean-up (PQ_KEEP=1 keeps the
folder)."""
import os
import re
import shutil
import subprocess
import tempfile

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


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
        open(y, "w").write(s)
        return y

    def close(self):
        subprocess.run([os.path.join(SRC, "tests", "mailenv.sh"), "stop", self.menv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.environ.get("PQ_KEEP"):
            shutil.rmtree(self.T, ignore_errors=True)
        else:
            print("kept " + self.T)
