# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`. Importing the package makes the collection (.build/collections) and the repo importable."""
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def _importable():
    for entry in (str(REPO / ".build" / "collections"), str(REPO)):
        if entry not in sys.path:
            sys.path.insert(0, entry)


_importable()
