# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP listeners on 127.0.0.1 only: one accept thread for all of them, one thread per connection."""
import selectors
import socket
import threading

LOOPBACK = "127.0.0.1"


class LoopbackServer:
    def __init__(self):
        self.stopping = threading.Event()
        self._listeners = []
        self._connections = set()
        self._threads = set()
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = socket.socketpair()
        self._accept_thread = None

    def listen(self, handler, port=0):
        """Bind 127.0.0.1:`port` (0: any free port); handler(conn) serves each connection."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
            sock.listen(64)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._listeners.append((sock, handler))
        return sock.getsockname()[1]

    def start(self):
        self._accept_thread = threading.Thread(target=self._accept_loop, name="standin-accept", daemon=True)
        self._accept_thread.start()

    def _accept_loop(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_read, selectors.EVENT_READ)
            for sock, handler in self._listeners:
                selector.register(sock, selectors.EVENT_READ, handler)
            while not self.stopping.is_set():
                for key, _events in selector.select():
                    if key.fileobj is self._wake_read:
                        return
                    self._accept(key.fileobj, key.data)

    def _accept(self, listener, handler):
        try:
            conn, _peer = listener.accept()
        except OSError:
            return
        conn.setblocking(True)
        thread = threading.Thread(target=self._serve, args=(handler, conn), name="standin-conn", daemon=True)
        with self._lock:
            self._connections.add(conn)
            self._threads.add(thread)
        thread.start()

    def _serve(self, handler, conn):
        try:
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self._connections.discard(conn)
                self._threads.discard(threading.current_thread())

    def stop(self, timeout=5.0):
        self.stopping.set()
        self._wake_write.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        for sock, _handler in self._listeners:
            sock.close()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout)
        self._wake_read.close()
        self._wake_write.close()
