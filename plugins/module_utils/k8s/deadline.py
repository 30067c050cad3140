# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One deadline shared by every wait of a module run."""
import time


class Deadline(object):
    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.seconds = seconds
        self.started = clock()
        self.at = self.started + max(0.0, float(seconds))
        self._once = None

    @classmethod
    def one_round(cls, seconds, clock=time.monotonic):
        """remaining() gives `seconds` once, then 0: one round of requests that waits for nothing (check mode)."""
        deadline = cls(seconds, clock)
        deadline._once = float(seconds)
        return deadline

    def remaining(self):
        if self._once is not None:
            left, self._once = self._once, 0.0
            return left
        return self.at - self.clock()

    def elapsed(self):
        return round(self.clock() - self.started, 3)
