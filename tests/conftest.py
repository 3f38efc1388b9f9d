"""Unit-test settings shared by every module under tests/."""

from hypothesis import settings

# No per-example deadline: speed is measured by benchmarks, never asserted inside a test, and
# hypothesis's 200 ms default fails examples at random on a shared 2-core CI machine under load
# (tests/cluster/test_shared_builds.py failed so once). Examples still run and shrink as before.
settings.register_profile("unit", deadline=None)
settings.load_profile("unit")
