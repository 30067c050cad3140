# SPDX-License-Identifier: Apache-2.0
"""Puts the repository root on sys.path so that `tests.servers.hazelcast` imports."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
