"""berth test fixture: HTTP and a websocket echo (RFC 6455) on 0.0.0.0:$PORT, stdlib only.

GET /        -> "hello from websocket app"
GET /ws      -> upgrade; every text/binary message is sent back; close is answered.
POST /       -> "got N bytes"
"""

import base64
import hashlib
import os
import signal
import socketserver
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_frame(rfile):
    head = rfile.read(2)
    if len(head) < 2:
        return None, b""
    opcode = head[0] & 0x0F
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", rfile.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b""
    data = rfile.read(length)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def frame(opcode, data):
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if self.path == "/headers":
            body = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
            return self._send(200, body)
        self._send(200, b"hello from websocket app")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        got = 0
        while got < n:
            chunk = self.rfile.read(min(65536, n - got))
            if not chunk:
                break
            got += len(chunk)
        self._send(200, f"got {got} bytes".encode())

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            opcode, data = read_frame(self.rfile)
            if opcode is None or opcode == 0x8:
                try:
                    self.wfile.write(frame(0x8, data[:2]))
                    self.wfile.flush()
                except OSError:
                    pass
                break
            if opcode == 0x9:
                self.wfile.write(frame(0xA, data))
            elif opcode in (0x1, 0x2):
                self.wfile.write(frame(opcode, data))
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, format, *args):
        pass


def serve(port, host="0.0.0.0"):
    socketserver.TCPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host = sys.argv[1] if len(sys.argv) > 1 else "0.0.0.0"
    serve(int(os.environ.get("PORT", "5000")), host).serve_forever()
