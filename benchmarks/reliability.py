# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability section: what the last test run tried and what held, from .build/reliability.json
(written by the tests themselves, tests/helpers/reliability.py). `make test` prints it at the end and
`make bench` puts it under its table.

    python -m benchmarks.reliability
"""
import datetime
import json
import pathlib

FILE = pathlib.Path(__file__).resolve().parents[1] / ".build" / "reliability.json"


def section(data):
    if not data:
        return "Reliability: no numbers yet ({} is written by `make test`).".format(FILE)
    lines = ["Reliability, as the last test run in this checkout saw it{}:".format(
        " (written {})".format(data["written"]) if "written" in data else "")]
    bad = data.get("bad_inputs", {})
    if bad:
        total = {key: sum(int(row[key]) for row in bad.values()) for key in ("tried", "refused", "naming_the_variable")}
        unchanged = [role for role, row in sorted(bad.items()) if row["cluster_unchanged"]]
        lines.append("- bad inputs: {tried} tried across {roles} roles, {refused} refused before any write, "
                     "{naming_the_variable} with a message naming the variable; cluster unchanged after {ok} of "
                     "{roles} tables".format(roles=len(bad), ok=len(unchanged), **total))
        lines.extend("  - {}: {tried} tried, {refused} refused, {naming_the_variable} named".format(role, **row)
                     for role, row in sorted(bad.items()))
    faults = data.get("faults", {})
    if faults:
        lost = sorted(test for test, outcome in faults.items() if outcome != "survived")
        lines.append("- faults: {} injected, {} survived{}".format(
            len(faults), len(faults) - len(lost), "; not survived: " + ", ".join(lost) if lost else ""))
    secrets = data.get("secrets", {})
    if secrets:
        lines.append("- secrets: {} values looked for in {} outputs (-vvv included), {} found (must be 0)".format(
            sum(row["checked"] for row in secrets.values()), len(secrets),
            sum(row["leaked"] for row in secrets.values())))
    return "\n".join(lines)


def load():
    if not FILE.exists():
        return {}
    written = datetime.datetime.fromtimestamp(FILE.stat().st_mtime, datetime.timezone.utc)
    return dict(json.loads(FILE.read_text()), written="{:%Y-%m-%d %H:%M} UTC".format(written))


def main():
    print(section(load()))


if __name__ == "__main__":
    main()
