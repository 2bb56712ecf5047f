"""settings.py -- where the server under test lives, chosen once per run.

The runner fills these from its command line; tests and the Instance class
read them.  Everything has a default so a single test module can also be
run by hand with CASSANDANE_PREFIX set in the environment.
"""

import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Installation prefix: programs are PREFIX/libexec/{master,imapd,ctl_cyrusdb}.
PREFIX = os.environ.get("CASSANDANE_PREFIX", os.path.join(TOP, "local"))

# Directory of the service programs; normally PREFIX/libexec.
LIBEXEC = os.environ.get("CASSANDANE_LIBEXEC") or os.path.join(PREFIX, "libexec")

# Where instance directories are made.
TMPDIR = os.environ.get("CASSANDANE_TMPDIR", "/tmp")

# Keep every instance directory, not only those of failed tests.
KEEP = bool(os.environ.get("CASSANDANE_KEEP"))


def set_prefix(prefix, libexec=None):
    """Point the harness at another installation."""
    global PREFIX, LIBEXEC
    PREFIX = os.path.abspath(prefix)
    LIBEXEC = os.path.abspath(libexec) if libexec else os.path.join(PREFIX, "libexec")


def program(name):
    """Absolute path of the installed service program `name`."""
    return os.path.join(LIBEXEC, name)
