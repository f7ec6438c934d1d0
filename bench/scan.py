"""Checkpoint scan benchmark: frame -> verdict latency per decoder, detection rate on hard frames,
and time to verdict for a pass held in front of the camera.

    .venv/bin/python bench/scan.py [--frames 40] [--per-condition 12] [--videos 6] [--check-seeds 8,9,10]

Part 1 runs the whole pipeline the app runs for each camera frame (grey conversion, decode, offline
verify, durable outbox write with synchronous=FULL) on 1280x720 frames, once per decoder, next to the
raw pyzbar decode of the same frames in the same run (the baseline). Part 2 reads a generated set of
hard frames (blur, tilt, glare, crease, phone screen, small, dark) with each decoder and the chain.

Part 3 plays, per hard condition, short "videos" of a pass held in view for 2 s at 30 fps (every
frame rendered afresh: the hand moves, the severity wavers around the video's own) through the
scanner's rule (the decoder takes the newest frame when it is free, frames in between are dropped)
and reports the time from the first frame to the verdict, p50 and p95.

Goals (issue 4): verdict within 25 ms of the frame; pipeline overhead <= 20% over the raw decode;
chain detection rate >= the best single decoder. Issue 10: >= 94/96 on the first eight conditions,
miss path (a frame with no code) <= 20 ms, hits no slower; time to verdict p95 <= 0.5 s.
The hard set of part 2 is the same on every run (fixed keys, seeds and pass dates: the passes of
2026-12-02, the day the set was first measured), so runs compare. `--check-seeds` also reads
sets drawn with other seeds, which no stage was chosen on: how far the choice carries over.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import cv2
import numpy as np
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checkpass_testkit.synthetic import (  # noqa: E402
    CONDITIONS,
    FRAME_H,
    FRAME_W,
    background,
    clean,
    hard_set,
    motion_kernel,
)
from checkpoint_app.decoder import (  # noqa: E402
    DecoderChain,
    OpenCVDecoder,
    ZbarDecoder,
    ZxingDecoder,
    previous_decoders,
    to_grey,
)
from checkpoint_app.service import CheckpointConfig, CheckpointService  # noqa: E402
from checkpoint_app.store import Store  # noqa: E402
from crypto.cose import sign1  # noqa: E402
from crypto.keys import KeyPair, kid_of  # noqa: E402
from crypto.passes import PassClaims, encode_pass  # noqa: E402
from crypto.status import StatusList  # noqa: E402
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle, sign_trust_bundle  # noqa: E402

ROOT_SEED, ISSUER_SEED = b"r" * 32, b"i" * 32
HARD_SET_DAY = 1796169600  # 2026-12-02 00:00 UTC: the passes of the fixed hard set (part 2)


def pass_texts(n_passes: int, day: int) -> list[str]:
    """Fixed keys and pass ids: passes issued on `day` are the same texts, hence the same QR
    frames, on every run."""
    issuer = KeyPair.from_seed(ISSUER_SEED)
    return [
        encode_pass(
            PassClaims(
                pass_id=i.to_bytes(16, "big"),
                issuer_kid=issuer.kid,
                serial=i,
                holder_name="歐陽大明",
                masked_national_id="A12*5*6*9*",
                org_id="12345675",
                org_name="新北市物流股份有限公司",
                kind="employee",
                issued_at=day - 60,
                not_before=day - 60,
                expires_at=day + 28 * 86400,
            ),
            issuer,
        )
        for i in range(n_passes)
    ]


def make_device(data_dir: Path, n_passes: int) -> tuple[CheckpointService, list[str]]:
    """An enrolled device with trust data and an officer login, filled as enrolment + sync would;
    with passes issued today (valid now, for the verdicts of parts 1 and 3)."""
    root, issuer = KeyPair.from_seed(ROOT_SEED), KeyPair.from_seed(ISSUER_SEED)
    now = int(time.time())
    day = now // 86400 * 86400  # pass times fixed for the day, so the pass texts are too
    status = StatusList.empty(issuer.kid, 4096)
    bundle = TrustBundle(
        issuer_keys=(IssuerKeyInfo(issuer.kid, issuer.public_key, KeyState.ACTIVE, now - 86400, None, 0),),
        issued_at=now,
        valid_until=now + 7 * 86400,
        hub_time=now,
        root_kid=root.kid,
    )
    store = Store(data_dir)
    store.write_device_key(KeyPair.from_seed(b"d" * 32).seed)
    store.save_device(
        "bench-device", "bench", "http://127.0.0.1:9", root.public_key, kid_of(root.public_key).hex()
    )
    store.save_trust(sign_trust_bundle(bundle, root), bundle.issued_at, bundle.valid_until, None)
    store.save_status(issuer.kid.hex(), status.counter, status.size, bytes(status.bits), None)
    credential = {
        "typ": "officer",
        "officer_id": "o1",
        "station_id": "s1",
        "name_masked": "林*華",
        "device_id": "bench-device",
        "nbf": now - 60,
        "exp": now + 3600,
    }
    store.save_officer(
        sign1(cbor2.dumps(credential), issuer), "o1", "林*華", "s1", "bench-device", now - 60, now + 3600
    )
    store.close()
    return CheckpointService(CheckpointConfig(data_dir=data_dir)), pass_texts(n_passes, day)


def decoders() -> dict[str, DecoderChain]:
    return {
        "pyzbar": DecoderChain([ZbarDecoder()]),
        "pyzbar@0.5": DecoderChain([ZbarDecoder(0.5)]),
        "zxing-cpp": DecoderChain([ZxingDecoder()]),
        "zx/histogram": DecoderChain([ZxingDecoder(binarizer="histogram")]),
        "zx/half": DecoderChain([ZxingDecoder(prepare="half")]),
        "zx/sharpen": DecoderChain([ZxingDecoder(prepare="sharpen")]),
        # Issue 10, item 5: the candidates for the frames the three stages above miss.
        "zx/highlights": DecoderChain([ZxingDecoder(prepare="highlights")]),
        "zx/open": DecoderChain([ZxingDecoder(prepare="open")]),
        "zx/open/hist": DecoderChain([ZxingDecoder(prepare="open", binarizer="histogram")]),
        "zx/3/4": DecoderChain([ZxingDecoder(prepare="three_quarter")]),
        "zx/deblur": DecoderChain([ZxingDecoder(prepare="deblur")]),
        "zx/deblur/hist": DecoderChain([ZxingDecoder(prepare="deblur", binarizer="histogram")]),
        "opencv": DecoderChain([OpenCVDecoder()]),
        # The chain before issue 10, measured in the same run as the baseline of the new one.
        "old chain": DecoderChain([ZxingDecoder(), ZbarDecoder(0.5)]),
        # The three-stage chain before item 5 (zxing-cpp, global threshold, halved sharpened).
        "prev chain": DecoderChain(previous_decoders()),
        "chain": DecoderChain(),
    }


def raw_pyzbar(frame: np.ndarray) -> list[str]:
    """The baseline: a bare pyzbar QR scan of the camera frame (grey conversion + decode, nothing else)."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return [s.data.decode() for s in pyzbar.decode(grey, symbols=[ZBarSymbol.QRCODE])]


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(fn: Callable[[Any], object], frame: Any) -> float:
    t0 = time.perf_counter()
    fn(frame)
    return time.perf_counter() - t0


def _cpu(fn: Callable[[Any], object], frame: Any) -> float:
    """CPU seconds of this thread: on a machine shared with other jobs the wall clock measures the
    scheduler as much as the decoder; OpenCV runs single-threaded here (main), so nothing is missed."""
    t0 = time.thread_time()
    fn(frame)
    return time.thread_time() - t0


def latency(
    service: CheckpointService, frames: list[np.ndarray], empty: list[np.ndarray], rounds: int
) -> None:
    """Each frame is timed raw-pyzbar, raw-decoder and full pipeline back to back, so load from other
    processes hits all three alike; medians over frames x rounds."""
    chains = decoders()
    base: list[float] = []
    raw: dict[str, list[float]] = {n: [] for n in chains}
    pipe: dict[str, list[float]] = {n: [] for n in chains}
    miss: dict[str, list[float]] = {n: [] for n in chains}
    verdicts = dict.fromkeys(chains, 0)
    for frame in frames[:3]:  # warm-up: first calls allocate
        raw_pyzbar(frame)
        for chain in chains.values():
            chain.decode(frame)
    for _ in range(rounds):
        for frame in frames:
            base.append(_time(raw_pyzbar, frame))
            for name, chain in chains.items():
                raw[name].append(_time(chain.decode, frame))
                service.decoder = chain
                t0 = time.perf_counter()
                texts = service.decode_frame(frame)
                outcome = service.check_pass(texts[0]) if texts else None
                pipe[name].append(time.perf_counter() - t0)
                verdicts[name] += bool(outcome and outcome.ok)
        for frame in empty:
            for name, chain in chains.items():
                miss[name].append(_time(chain.decode, frame))
    n = len(frames) * rounds
    base_ms = ms(base)
    print(f"\n1) 1280x720 frame -> verdict, median of {n} (decode + verify + fsynced outbox write)")
    print(
        f"{'decoder':12s} {'raw decode':>11s} {'frame->verdict':>15s} {'fps':>6s} {'overhead':>9s}"
        f" {'vs raw pyzbar':>14s} {'no-QR frame':>12s}"
    )
    print(f"{'raw pyzbar':12s} {base_ms:9.2f}ms {'(baseline)':>15s} {1000 / base_ms:6.1f}")
    for name in chains:
        overhead = ms(pipe[name]) / ms(raw[name]) - 1
        print(
            f"{name:12s} {ms(raw[name]):9.2f}ms {ms(pipe[name]):13.2f}ms {1000 / ms(pipe[name]):6.1f}"
            f" {overhead:+8.1%} {ms(pipe[name]) / base_ms:13.2f}x {ms(miss[name]):10.2f}ms"
            f"   ({verdicts[name]}/{n} valid verdicts)"
        )
    texts = [t for f in frames[:5] for t in chains["chain"].decode(f)]
    verify_only = [_time(lambda t: service.verifier.check(t, int(time.time())), t) for t in texts * 20]
    step = [_time(service.check_pass, t) for t in texts * 20]
    print(
        f"verdict step alone: verify {ms(verify_only):.3f} ms,"
        f" verify + fsynced outbox write {ms(step):.3f} ms (the fixed cost on top of any decoder)"
    )
    chain_ms = ms(pipe["chain"])
    print(
        f"goal: chain frame->verdict {chain_ms:.2f} ms <= 25 ms: {'OK' if chain_ms <= 25 else 'MISSED'};"
        f" vs raw pyzbar {chain_ms / base_ms - 1:+.1%}"
        f" (<= +20%: {'OK' if chain_ms <= 1.2 * base_ms else 'MISSED'})"
    )


def smeared_scene(rng: np.random.Generator) -> np.ndarray:
    """A frame without a code that the deblur stage works on in full: a busy scene (print, a
    grille: many small dark and light marks) smeared 14 px by a shaking phone. Its one direction
    of blur passes the stage's isotropy check, so this is the dearest frame without a code."""
    frame = background(rng)
    for _ in range(400):
        x, y = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
        w, h = int(rng.integers(2, 10)), int(rng.integers(2, 10))
        cv2.rectangle(frame, (x, y), (x + w, y + h), [int(rng.choice([20, 235]))] * 3, -1)
    return cv2.filter2D(frame, -1, motion_kernel(14, float(rng.uniform(0, 180))))


FIRST_EIGHT = ("clean", "blur", "tilt", "glare", "crease", "screen", "small", "dark")


def detection(
    texts: list[str],
    per_condition: int,
    empty: list[np.ndarray],
    smeared: list[np.ndarray],
    check_seeds: list[int],
) -> None:
    images = hard_set(texts, per_condition=per_condition)
    print(
        f"\n2) detection on {len(images)} generated hard frames"
        f" ({per_condition} per condition, severity 0..1); ms = median CPU time per frame;"
        " miss = a frame without a code: still / a busy scene smeared (where the deblur stage runs in full)"
    )
    names = list(CONDITIONS)
    print(
        f"{'decoder':14s} {'first 8':>8s} {'all':>8s} "
        + " ".join(f"{n:>6s}" for n in names)
        + f" {'hit ms':>7s} {'miss ms':>8s} {'smeared':>8s}"
    )
    results: dict[str, tuple[int, float, float, float]] = {}
    for name, chain in decoders().items():
        hits = dict.fromkeys(names, 0)
        hit_t: list[float] = []
        for image in images:
            grey = to_grey(image.frame)
            t0 = time.thread_time()
            found = chain.decode(grey)
            spent = time.thread_time() - t0
            if image.text in found:
                hits[image.condition] += 1
                hit_t.append(spent)
        miss_ms = ms([_cpu(chain.decode, frame) for frame in empty])
        smeared_ms = ms([_cpu(chain.decode, frame) for frame in smeared])
        first = sum(hits[n] for n in FIRST_EIGHT)
        total = sum(hits.values())
        hit_ms = ms(hit_t) if hit_t else float("nan")
        results[name] = (first, hit_ms, miss_ms, smeared_ms)
        print(
            f"{name:14s} {first:3d}/{per_condition * len(FIRST_EIGHT):<4d} {total:3d}/{len(images):<4d} "
            + " ".join(f"{hits[n]:6d}" for n in names)
            + f" {hit_ms:7.2f} {miss_ms:8.2f} {smeared_ms:8.2f}"
        )
    first, hit_ms, miss_ms, smeared_ms = results["chain"]
    prev_first, prev_hit_ms, _, _ = results["prev chain"]
    old_first = results["old chain"][0]
    worst_miss = max(miss_ms, smeared_ms)
    target = round(94 / 96 * per_condition * len(FIRST_EIGHT))
    print(
        f"goal: chain {first} (prev chain {prev_first}, old chain {old_first}) >= {target} on the first"
        f" eight: {'OK' if first >= target else 'MISSED'}; miss path {miss_ms:.2f} ms, smeared"
        f" {smeared_ms:.2f} ms <= 20 ms: {'OK' if worst_miss <= 20 else 'MISSED'}; hits {hit_ms:.2f} ms"
        f" vs prev chain {prev_hit_ms:.2f} ms ({hit_ms / prev_hit_ms - 1:+.0%})"
    )
    if check_seeds:
        chains = {"old chain": decoders()["old chain"], "prev chain": DecoderChain(previous_decoders())}
        chains["chain"] = DecoderChain()
        print(f"other hard sets (seeds {check_seeds}, no stage chosen on them): first 8 / all")
        counts: dict[str, list[str]] = {name: [] for name in chains}
        for seed in check_seeds:
            fresh = hard_set(texts, per_condition=per_condition, seed=seed)
            for name, chain in chains.items():
                read = [image for image in fresh if image.text in chain.decode(to_grey(image.frame))]
                first_eight = sum(1 for image in read if image.condition in FIRST_EIGHT)
                counts[name].append(f"{first_eight}/{len(read)}")
        for name, cells in counts.items():
            pairs = zip(check_seeds, cells, strict=True)
            print(f"{name:14s} " + "  ".join(f"seed {seed}: {c:>7s}" for seed, c in pairs))


FRAME_S = 1 / 30
HOLD_S = 2.0


def time_to_verdict(
    service: CheckpointService, texts: list[str], videos: int, conditions: tuple[str, ...]
) -> None:
    """Replay the scanner's rule on a simulated clock driven by the measured decode times: the
    decoder takes the newest frame that has arrived, frames it was too busy for are dropped."""
    chains = {
        "old chain": decoders()["old chain"],
        "prev chain": DecoderChain(previous_decoders()),
        "chain": DecoderChain(),
    }
    print(
        f"\n3) time to verdict: a pass held in view {HOLD_S:.0f} s at 30 fps, {videos} videos per"
        " condition (severity spread 0..1, jittered per frame); seconds, p50 / p95 / not read"
    )
    print(f"{'decoder':10s} " + " ".join(f"{c:>16s}" for c in conditions) + f" {'all':>16s}")
    for name, chain in chains.items():
        service.decoder = chain
        cells: list[str] = []
        every: list[float] = []
        for condition in conditions:
            make = CONDITIONS[condition]
            times: list[float] = []
            misses = 0
            for v in range(videos):
                severity = v / max(1, videos - 1)
                rng = np.random.default_rng(1000 * v + len(condition))
                text = texts[v % len(texts)]
                clock, verdict_at, decoded = 0.0, None, -1
                while clock < HOLD_S:
                    index = int(clock / FRAME_S)
                    if index == decoded:  # nothing new yet: wait for the next frame
                        # (+1e-9: (i + 1) * FRAME_S / FRAME_S can round down to i and loop forever)
                        clock = (index + 1) * FRAME_S + 1e-9
                        continue
                    jitter = float(np.clip(severity + rng.normal(0, 0.12), 0, 1))
                    frame = make(text, jitter, rng)
                    t0 = time.perf_counter()
                    found = service.decode_frame(frame)
                    outcome = service.check_pass(found[0]) if text in found else None
                    clock += time.perf_counter() - t0
                    decoded = index
                    if outcome is not None:
                        verdict_at = clock
                        break
                if verdict_at is None:
                    misses += 1
                    times.append(float("inf"))
                else:
                    times.append(verdict_at)
            every += times
            cells.append(_p50_p95(times, misses))
        cells.append(_p50_p95(every, sum(1 for t in every if t == float("inf"))))
        print(f"{name:10s} " + " ".join(f"{c:>16s}" for c in cells))
    finite = sorted(every)
    p95 = finite[int(0.95 * (len(finite) - 1))]
    print(f"goal: chain p95 {p95:.2f} s <= 0.5 s: {'OK' if p95 <= 0.5 else 'MISSED'}")


def _p50_p95(times: list[float], misses: int) -> str:
    ordered = sorted(times)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    show = lambda t: " inf" if t == float("inf") else f"{t:4.2f}"  # noqa: E731
    return f"{show(p50)}/{show(p95)}/{misses}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-condition", type=int, default=12)
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--parts", default="123", help="which parts to run, e.g. 2 or 13 (default all)")
    parser.add_argument(
        "--check-seeds", default="8,9,10", help="other hard-set seeds read in part 2 ('' for none)"
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core's work, as the scanner's decode thread does it
    print(
        f"checkpoint scan bench: {platform.machine()} {os.cpu_count()} cpu, {platform.python_version()},"
        f" OpenCV {cv2.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        service, texts = make_device(Path(tmp) / "device", 20)
        try:
            rng = np.random.default_rng(11)
            frames = [clean(texts[i % len(texts)], 0, rng) for i in range(args.frames)]
            empty = [background(rng) for _ in range(10)]  # most live frames hold no code
            smear_rng = np.random.default_rng(12)
            smeared = [smeared_scene(smear_rng) for _ in range(10)]
            if "1" in args.parts:
                latency(service, frames, empty, args.rounds)
            if "2" in args.parts:
                seeds = [int(seed) for seed in args.check_seeds.split(",") if seed.strip()]
                detection(pass_texts(20, HARD_SET_DAY), args.per_condition, empty, smeared, seeds)
            if "3" in args.parts:
                hard = tuple(c for c in CONDITIONS if c != "clean")
                time_to_verdict(service, texts, args.videos, hard)
        finally:
            service.close()


if __name__ == "__main__":
    main()
