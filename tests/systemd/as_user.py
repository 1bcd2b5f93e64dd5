"""`python as_user.py UID GID GROUPS UMASK ARGS...`: chargectl ARGS with those ids.

Everything the commands import is imported first, as root, because the interpreter's own files
may be unreadable to the target uid; then the ids drop and the command runs as that user.
"""

import importlib
import os
import sys

for name in (
    "controller.cli",
    "controller.config",
    "controller.config_sources",
    "controller.status",
    "controller.run",
    "controller.app",
    "controller.web.server",
    "controller.drivers",
    "controller.failsafe",
    "hw.sim",
    "sqlite3",
    "tomllib",
    "dotenv",
    "encodings.idna",
):
    importlib.import_module(name)

uid, gid, groups, umask = sys.argv[1:5]
os.setgroups([int(g) for g in groups.split(",") if g])
os.setgid(int(gid))
os.setuid(int(uid))
os.umask(int(umask, 8))

from controller.cli import main  # noqa: E402

sys.exit(main(sys.argv[5:]))
