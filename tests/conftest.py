# SPDX-License-Identifier: Apache-2.0
"""Makes `tests.*` and `tools.*` importable from every test."""
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
