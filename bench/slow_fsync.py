"""Build the slow-fsync shim (bench/slow_fsync.c) for LD_PRELOAD; None without a C compiler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("slow_fsync.c")


def build(out_dir: Path) -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    lib = out_dir / "slow_fsync.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(SOURCE), "-ldl"],
        check=True,
        capture_output=True,
    )
    return lib
