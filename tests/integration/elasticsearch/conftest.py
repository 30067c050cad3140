# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real OpenSearch nodes on 127.0.0.1; these tests need no Kubernetes control plane."""
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="session", autouse=True)
def local_control_plane():
    """Overrides tests/integration/conftest.py: nothing here talks to Kubernetes."""
    return None
