# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real AntidoteDB 0.2.2 nodes on loopback for integration tests, built from the vendored sources."""

from tests.servers.antidote.nodes import AntidoteHarnessError, AntidoteNode, AntidoteNodes
from tests.servers.antidote.release import ANTIDOTE_VERSION, DEBIAN_PACKAGES, ensure_release

__all__ = ["ANTIDOTE_VERSION", "DEBIAN_PACKAGES", "AntidoteHarnessError", "AntidoteNode", "AntidoteNodes",
           "ensure_release"]
