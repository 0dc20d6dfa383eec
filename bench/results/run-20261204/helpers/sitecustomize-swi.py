"""Experiment only (ninth round): a shorter GIL switch interval in the gateway process, not in the
bench or the simulator. Copied as `sitecustomize.py` into a worktree's root on PYTHONPATH."""

import os
import sys

if sys.argv and sys.argv[0].endswith("pakn-gateway"):
    sys.setswitchinterval(float(os.environ.get("SWI_SECONDS", "0.001")))
    sys.stderr.write(f"sitecustomize: switch interval {sys.getswitchinterval()}\n")
