"""The test suite's settings: the development settings (DEBUG=true while they load: local hosts, the
development key, plain cookie names), which Django's test runner then runs with DEBUG off.

Servers the tests start in subprocesses get their own environment (tests/servers.py: base_env).
"""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403

# Every {% kept %} fragment a test renders is compared with a fresh render (core/templatetags/kept.py).
KEPT_FRAGMENTS_VERIFY = True
