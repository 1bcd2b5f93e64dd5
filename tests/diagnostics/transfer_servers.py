"""Real servers on 127.0.0.1 for the transfer tests: FTP (pyftpdlib) and an HTTP server that
accepts uploads by PUT or multipart POST, and can fail the first requests on purpose."""

from __future__ import annotations

import email.parser
import email.policy
import http.server
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer


@contextmanager
def ftp_server(root: Path, user: str = "diag", password: str = "ftp-pass-123"):
    """Yields `ftp://user:password@127.0.0.1:PORT` serving `root` (read and write)."""
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, str(root), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test"})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"ftp://{user}:{password}@127.0.0.1:{server.address[1]}"
    finally:
        server.close_all()
        thread.join(5)


@dataclass
class Received:
    files: dict[str, bytes] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    fail_first: int = 0
    refuse_put: bool = False
    serve: dict[str, bytes] = field(default_factory=dict)
    delay_s: float = 0.0  # before each answer: a slow server


@contextmanager
def http_server(received: Received):
    """Yields the base URL; uploads land in `received.files` by name."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _fail(self) -> bool:
            time.sleep(received.delay_s)
            if received.fail_first > 0:
                received.fail_first -= 1
                self.send_error(503)
                return True
            return False

        def do_GET(self) -> None:
            received.methods.append("GET")
            if self._fail():
                return
            body = received.serve.get(self.path.rsplit("/", 1)[-1])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:
            received.methods.append("PUT")
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self._fail():
                return
            if received.refuse_put:
                self.send_error(405)
                return
            received.files[self.path.rsplit("/", 1)[-1]] = body
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            received.methods.append("POST")
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self._fail():
                return
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            for part in msg.iter_parts():
                received.files[part.get_filename()] = part.get_payload(decode=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
