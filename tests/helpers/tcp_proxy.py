# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback TCP proxy whose open connections a test can cut, like a network drop."""
import socket
import threading


class TcpProxy(object):
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.accepted = 0
        # While True, new connections are closed as soon as accepted, as by a server that is restarting.
        self.dropping = False
        self.dropped = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            if self.dropping:
                client.close()
                self.dropped += 1
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.connections += [client, upstream]
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.close()
            except OSError:
                pass

    def cut(self):
        """Reset every open connection."""
        with self._lock:
            doomed, self.connections = self.connections, []
        for sock in doomed:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
        return len(doomed) // 2

    def close(self):
        self.listener.close()
        self.cut()
