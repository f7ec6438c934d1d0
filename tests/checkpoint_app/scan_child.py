"""Child process for the "nothing lost" test: scans and syncs until it is SIGKILLed.

Usage: scan_child.py DATA_DIR SHOWN_FILE PASSES_FILE
An event id is appended to SHOWN_FILE only after check_pass returned, i.e. when the verdict
would be on the screen. The parent kills this process at random moments.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from checkpoint_app.service import CheckpointConfig, CheckpointService


def main() -> None:
    data_dir, shown_file, passes_file = (Path(a) for a in sys.argv[1:4])
    texts = passes_file.read_text().split()
    service = CheckpointService(
        CheckpointConfig(
            data_dir=data_dir, sync_interval_s=0.05, batch_size=7, backoff_base_s=0.02, backoff_cap_s=0.2
        )
    )
    service.start_sync()
    rng = random.Random()
    with open(shown_file, "a", encoding="ascii") as shown:
        print("ready", flush=True)
        while True:
            outcome = service.check_pass(rng.choice(texts))
            # One write() per line: a kill leaves whole lines or a torn last line, never a mix.
            shown.write(outcome.event_id + "\n")
            shown.flush()
            time.sleep(rng.uniform(0, 0.004))


if __name__ == "__main__":
    main()
