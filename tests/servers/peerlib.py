"""What the scripted peers share: a loopback listener that publishes its
port in a file, a thread per connection, and a transcript log."""
import os
import socket
import threading

_lock = threading.Lock()


def serve_forever(port_file, handler):
    """Listen on a free 127.0.0.1 port, write it to port_file (atomically)
    and run handler(conn) in a thread for every connection."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def logger(path):
    """A function appending one line to the transcript at path."""
    def log(line):
        with _lock, open(path, "a") as f:
            f.write(line + "\n")
    return log
