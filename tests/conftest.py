# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Makes `tests.*` and `tools.*` importable from every test; records the outcome of every `fault` test."""
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def pytest_runtest_logreport(report):
    """A fault test survived when it passed; a failure in setup or in the test counts against it."""
    if "fault" not in report.keywords or report.skipped:
        return
    if report.when == "call" or report.failed:
        from tests.helpers.reliability import record
        record("faults", report.nodeid, "survived" if report.passed else "not survived")
