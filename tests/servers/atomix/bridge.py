# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A byte pipe between a TCP port and a unix socket, so that processes in a sealed network namespace
(only its own loopback) reach the API server on the host's 127.0.0.1 through a file.

    python -m tests.servers.atomix.bridge unix-to-tcp SOCKET 127.0.0.1 PORT   # on the host
    python -m tests.servers.atomix.bridge tcp-to-unix 127.0.0.1 PORT SOCKET   # in the namespace
"""
import asyncio
import sys


async def _pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def _joiner(connect):
    async def handle(reader, writer):
        try:
            upstream_reader, upstream_writer = await connect()
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
    return handle


async def serve(mode, args):
    if mode == "unix-to-tcp":
        path, host, port = args[0], args[1], int(args[2])
        if host != "127.0.0.1":
            raise SystemExit("bridge: the host side only dials 127.0.0.1")
        server = await asyncio.start_unix_server(_joiner(lambda: asyncio.open_connection(host, port)), path=path)
    elif mode == "tcp-to-unix":
        host, port, path = args[0], int(args[1]), args[2]
        server = await asyncio.start_server(_joiner(lambda: asyncio.open_unix_connection(path)), host, port)
    else:
        raise SystemExit("bridge: unknown mode %s" % mode)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2:]))
