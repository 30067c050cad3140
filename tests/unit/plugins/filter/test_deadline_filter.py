# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""within_deadline: a task's timeout cut to what is left of verify.yml's one deadline."""
import time

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.filter.deadline import FilterModule

within_deadline = FilterModule().filters()["within_deadline"]


def test_without_a_deadline_the_timeout_stays():
    assert within_deadline(300) == 300 and within_deadline("300", None) == 300 and within_deadline(300, "") == 300


def test_a_sooner_deadline_cuts_the_timeout():
    assert 55 <= within_deadline(300, time.time() + 60) <= 60


def test_a_later_deadline_leaves_the_timeout():
    assert within_deadline(30, str(int(time.time()) + 600)) == 30


def test_a_passed_deadline_leaves_one_second():
    assert within_deadline(300, time.time() - 100) == 1


def test_nonsense_is_an_error_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="within_deadline"):
        within_deadline("soon", 5)
