# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability numbers of a test run, kept in .build/reliability.json for `make test` and `make bench`
to print (benchmarks/reliability.py): bad inputs tried and refused before any write, faults injected and
survived (tests marked `fault`), secret values looked for in output and found there (must be 0).
Each test records its own outcome, failures included, so the numbers are what the run saw."""
import fcntl
import json

from tests.helpers.ansible import REPO

FILE = REPO / ".build" / "reliability.json"


def record(section, key, value):
    FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(str(FILE) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(FILE.read_text()) if FILE.exists() else {}
        data.setdefault(section, {})[key] = value
        FILE.write_text(json.dumps(data, indent=1, sort_keys=True))


def assert_no_secret_printed(where, secrets, output):
    """Record how many secret values were looked for in `output` and how many were found, then assert none."""
    leaked = [index for index, secret in enumerate(secrets) if secret in output]
    record("secrets", where, {"checked": len(secrets), "leaked": len(leaked)})
    assert leaked == [], "secret values number {} of {} appear in the output of {}".format(
        leaked, len(secrets), where)
