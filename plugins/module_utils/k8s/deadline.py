# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One deadline shared by every wait of a module run."""
import time


class Deadline(object):
    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.at = self.started + max(0.0, float(seconds))

    def remaining(self):
        return self.at - self.clock()

    def elapsed(self):
        return round(self.clock() - self.started, 3)
