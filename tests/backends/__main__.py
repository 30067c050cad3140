# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python -m tests.backends start|stop --inventory inventories/local [--systems hazelcast,...]

`start` runs the backends in a background process and returns once they answer; `stop` ends it.
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
for entry in (str(REPO / ".build" / "collections"), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

STATE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))) / "stateful-datastores"


def _paths(inventory):
    key = pathlib.Path(inventory).resolve().name
    return STATE / "backends-{}.json".format(key), STATE / "backends-{}.log".format(key)


def serve(args):
    from tests.backends.serve import Backends

    state, _log = _paths(args.inventory)
    backends = Backends(args.inventory, args.systems.split(",") if args.systems else None)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stopping.set())
    try:
        summary = backends.start()
        # Written whole, then renamed: `start` reads the file as soon as it exists.
        partial = state.with_suffix(".partial")
        partial.write_text(json.dumps({"pid": os.getpid(), "backends": summary}))
        os.replace(str(partial), str(state))
        stopping.wait(args.max_lifetime)
    finally:
        backends.stop()
        state.unlink(missing_ok=True)


def start(args):
    state, log = _paths(args.inventory)
    STATE.mkdir(parents=True, exist_ok=True)
    if state.exists():
        stop(args)
    command = [sys.executable, "-m", "tests.backends", "serve", "--inventory", args.inventory,
               "--max-lifetime", str(args.max_lifetime)] + (["--systems", args.systems] if args.systems else [])
    with open(str(log), "w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + args.timeout
    while not state.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit("backends did not start; see {}:\n{}".format(log, log.read_text()[-3000:]))
        time.sleep(0.2)
    for system, info in json.loads(state.read_text())["backends"].items():
        print("backends: {:<14} {} in namespace {}".format(system, info["kind"], info["namespace"]))


def stop(args):
    state, _log = _paths(args.inventory)
    if not state.exists():
        return
    pid = json.loads(state.read_text())["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        state.unlink(missing_ok=True)
        return
    deadline = time.monotonic() + 30
    while state.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    print("backends: stopped (pid {})".format(pid))


def main():
    parser = argparse.ArgumentParser(prog="python -m tests.backends", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "serve"))
    parser.add_argument("--inventory", default="inventories/local")
    parser.add_argument("--systems", help="comma-separated; default: datastores_systems of the inventory")
    parser.add_argument("--max-lifetime", type=float, default=7200.0, help="seconds before it stops by itself")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds `start` waits for the backends")
    args = parser.parse_args()
    {"start": start, "stop": stop, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
