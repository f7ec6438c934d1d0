"""Pass sheet speed: how long one enterprise sheet request takes to render.

Run: .venv/bin/python bench/pass_sheet.py

* ms per pass QR with the hub's mask choice (hub.documents.qr) next to qrcode's own 8-way mask search
  for the same texts, measured in the same run (the baseline); the symbols are identical;
* seconds to render a sheet of SHEET_PART_PASSES (the route's cap) and of 500 passes, QR cache cold;
  goal: one request (SHEET_PART_PASSES passes) under 10 s.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import qrcode
import qrcode.constants
import qrcode.util

from crypto.keys import KeyPair
from crypto.passes import PassClaims, encode_pass
from hub.api.routes.passes import SHEET_PART_PASSES
from hub.documents import qr
from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet

NOW = 1_790_000_000
QR_SAMPLE = 60


def _passes(count: int) -> list[str]:
    key = KeyPair.generate()
    return [
        encode_pass(
            PassClaims(
                pass_id=os.urandom(16),
                issuer_kid=key.kid,
                serial=serial,
                holder_name="歐陽娜娜",
                masked_national_id="A12*5*6*9*",
                org_id="22099131",
                org_name="臺灣測試科技股份有限公司",
                kind="employee",
                issued_at=NOW,
                not_before=NOW,
                expires_at=NOW + 30 * 86400,
            ),
            key,
        )
        for serial in range(count)
    ]


def _qrcode_alone(text: str) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=qr.QUIET_ZONE)
    code.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=True)


def _ms_each(fn: Callable[[str], object], texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        fn(text)
    return (time.perf_counter() - started) / len(texts) * 1000


def main() -> None:
    texts = _passes(500)
    sample = texts[:QR_SAMPLE]
    baseline = _ms_each(_qrcode_alone, sample)
    fast = _ms_each(lambda t: qr._cached_matrix(t, qrcode.constants.ERROR_CORRECT_Q), sample)
    print(
        f"pass QR: {fast:.1f} ms (qrcode's own mask search: {baseline:.1f} ms; ratio {fast / baseline:.2f})"
    )
    for count in (SHEET_PART_PASSES, 500):
        qr._cached_matrix.cache_clear()
        items = [PassSheetItem.from_pass(t) for t in texts[:count]]
        started = time.perf_counter()
        pdf = render_pass_sheet(items, per_page=4)
        seconds = time.perf_counter() - started
        goal = " (goal < 10 s)" if count == SHEET_PART_PASSES else ""
        print(f"sheet of {count} passes: {seconds:.2f} s{goal}, {len(pdf) / 1e6:.1f} MB")
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")


if __name__ == "__main__":
    main()
