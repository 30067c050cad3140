# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/k8s/deadline.py: the time left, the time spent, and one round for check mode."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline


class FakeClock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_remaining_and_elapsed_follow_the_clock():
    clock = FakeClock()
    deadline = Deadline(30, clock)
    clock.now += 10
    assert deadline.remaining() == 20 and deadline.elapsed() == 10 and deadline.seconds == 30
    clock.now += 25
    assert deadline.remaining() == -5


def test_a_negative_timeout_is_already_over():
    assert Deadline(-1, FakeClock()).remaining() == 0


def test_one_round_gives_the_whole_time_once_then_nothing():
    clock = FakeClock()
    deadline = Deadline.one_round(5.0, clock)
    assert [deadline.remaining(), deadline.remaining(), deadline.remaining()] == [5.0, 0.0, 0.0]
    clock.now += 2
    assert deadline.elapsed() == 2
