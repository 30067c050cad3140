# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability section that `make test` and `make bench` print from the tests' own records."""
from benchmarks.reliability import section


def test_no_numbers_says_where_they_come_from():
    assert "make test" in section({})


def test_totals_and_what_did_not_hold_are_named():
    text = section({
        "bad_inputs": {"antidote": {"tried": 20, "refused": 20, "naming_the_variable": 19, "cluster_unchanged": True},
                       "hazelcast": {"tried": 16, "refused": 15, "naming_the_variable": 15,
                                     "cluster_unchanged": False}},
        "faults": {"tests/a.py::test_one": "survived", "tests/b.py::test_two": "not survived"},
        "secrets": {"site": {"checked": 3, "leaked": 0}, "es": {"checked": 4, "leaked": 1}},
        "written": "2026-12-04 08:00 UTC"})
    assert "as the last test run in this checkout saw it (written 2026-12-04 08:00 UTC):" in text
    assert ("36 tried across 2 roles, 35 refused before any write, 34 with a message naming the variable; "
            "cluster unchanged after 1 of 2 tables") in text
    assert "2 injected, 1 survived; not survived: tests/b.py::test_two" in text
    assert "7 values looked for in 2 outputs (-vvv included), 1 found" in text
