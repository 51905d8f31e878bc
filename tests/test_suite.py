"""The test suite itself: every test module has a basename of its own.

``tests/`` and ``tests/browser/`` are plain folders (no packages), so pytest imports each test
module by its basename: two modules of one name stop the whole run at collection."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_two_test_modules_share_a_name():
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert not [n for n, k in names.items() if k > 1]
