"""Shared fixtures and the Hypothesis profiles.

Profiles (``--hypothesis-profile=NAME``; ``ci`` is the default):

* ``ci``: derandomized (a fixed seed per test: every run and every fresh
  clone draws the same examples and gives the same verdict), no example
  database, no deadline, and on a failure the reproduction blob is printed
  (``@reproduce_failure(...)``).
* ``explore``: random seeds (the seed is printed on a failure: rerun with
  ``--hypothesis-seed=N``), ten times each test's number of examples, the
  local example database on; for hunting bugs on demand, not for CI.

``browser``: headless Chromium driven by selenium with Debian's chromedriver
(given explicitly, so selenium-manager never downloads anything), a fresh
profile in the test's tmp_path, the browser console log captured. Skips when
chromium or chromedriver is missing.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True,
                          max_examples=1000)
settings.load_profile("ci")  # the default; --hypothesis-profile=... loads another after this

#: How many times its own ``max_examples`` a test runs under ``explore``.
EXPLORE_SCALE = 10


def pytest_collection_modifyitems(config, items):
    """Under ``explore``, scale the examples of tests that set their own
    ``max_examples`` (a profile only sets the default)."""
    if config.getoption("hypothesis_profile", None) != "explore":
        return
    for item in items:
        fn = getattr(item, "obj", None)
        own = getattr(fn, "_hypothesis_internal_use_settings", None)  # what @settings(...) set
        if own is not None:
            fn._hypothesis_internal_use_settings = settings(
                own, max_examples=own.max_examples * EXPLORE_SCALE)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"headless browser test needs Debian's chromium and chromium-driver "
                    f"(apt-get install chromium chromium-driver); missing: {', '.join(missing)}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
