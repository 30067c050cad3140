# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible callback for `make bench`: when each task started and ended, and which action it ran.

Enabled only by the benchmarks (ANSIBLE_CALLBACK_PLUGINS=benchmarks/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_timer); writes JSON to the file named by $BENCH_TIMER_FILE when the
playbook ends. Times are wall-clock seconds (time.time()), comparable with other processes.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Records task start and end times for make bench
description:
  - Writes, when the playbook ends, one JSON document with the playbook's start and end and, per task,
    its name, action, start, end, status and number of loop items, to the file named by E(BENCH_TIMER_FILE).
requirements:
  - Enabled explicitly (callbacks_enabled).
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._record = {"start": time.time(), "end": None, "tasks": []}
        self._current = None

    def _close_current(self, status, now):
        if self._current is not None and self._current["end"] is None:
            self._current["end"] = now
            self._current["status"] = status

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.time()
        self._close_current("ended", now)
        self._current = {"name": task.get_name(), "action": task.action, "start": now, "end": None,
                         "status": None, "items": 0, "changed": False}
        self._record["tasks"].append(self._current)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _result(self, result, status):
        if self._current is not None:
            self._current["changed"] = self._current["changed"] or bool(result._result.get("changed"))
        self._close_current(status, time.time())

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        if self._current is not None:
            self._current["items"] += 1

    def v2_runner_item_on_failed(self, result):
        self.v2_runner_item_on_ok(result)

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._close_current("ended", now)
        self._record["end"] = now
        path = os.environ.get("BENCH_TIMER_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self._record, handle)
