"""The hub's own CPU per request of bench/load.py's mix, one request at a time, against the floor.

    .venv/bin/python bench/request_cost.py [--ops 300] [--repeat 3] [--tree OTHER_CHECKOUT ...]
        [--py-spy DIR]

bench/load.py measures the same ratio under an open-loop rush, which needs a quiet machine. This one
sends the mix's operations one after another (a fixed, seeded sequence) to a one-worker `checkpass hub
serve` on SQLite and to the floor (bench/load.py's bare FastAPI app of the hub's shape), and counts only
the CPU time (user + system, from /proc) of the server processes: on a shared machine that, not the wall
time, says what a request costs. Each checkout given with `--tree` (e.g. a worktree of main) gets its
own hub started the same way, and every target is timed in interleaved rounds, so a neighbour's burst
lands on all of them alike; the median round counts. The floor also runs between each target's blocks
(one block per kind of operation), and each round's ratio is taken against the floor of that round's
own moments: on a machine whose speed moves within a minute, that ratio is steadier than one median
over another. `--py-spy DIR` also records a flame graph of each hub while it serves the sequence
(py-spy, not a project dependency: docs/deploy.md).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402  (bench/load.py: the mix, the hub's setup, the floor)


class TreeTarget(load.Target):
    """bench/load.py's one-worker hub, its code taken from the checkout `tree`."""

    tree: Path = ROOT

    def env(self) -> dict[str, str]:
        return {**super().env(), "PYTHONPATH": str(self.tree)}


def _driver(plan: dict[str, Any]) -> Any:
    """A function that sends one operation of `kind` and returns how many requests it made."""
    import httpx

    from crypto.keys import KeyPair

    client = httpx.Client(base_url=plan["url"], timeout=30)
    sms = load.SmsInbox(Path(plan["sms_path"]))
    sms.refresh()
    key = KeyPair.from_seed(base64.b64decode(plan["device_seed"]))
    ent = {"Authorization": f"Bearer {plan['enterprise_token']}"}
    adm = {"Authorization": f"Bearer {plan['admin_token']}"}
    seq = [int(time.time() * 1000) % 10**9 * 100]
    rng = random.Random(7)

    def expect(response: httpx.Response, status: int) -> None:
        if response.status_code != status:
            raise SystemExit(f"{response.request.url.path}: {response.status_code} {response.text[:200]}")

    def op(kind: str) -> int:
        if kind == "pass_fetch":
            expect(client.get("/api/v1/passes/" + rng.choice(plan["passes"]), headers=ent), 200)
            return 1
        if kind == "conditional_get":
            if rng.random() < 0.5:
                r = client.get("/api/v1/trust/bundle", headers={"If-None-Match": plan["bundle_etag"]})
            else:
                r = client.get(plan["status_path"], headers={"If-None-Match": plan["status_etag"]})
            expect(r, 304)
            return 1
        if kind == "register_query":
            query = f"/api/v1/queries/passes?enterprise_id={plan['enterprise_id']}"
            expect(client.get(query, headers=adm), 200)
            return 1
        if kind == "scan_batch":
            start = seq[0]
            seq[0] += 20
            now = time.time()
            events = load.scan_events(start, now)
            batch = {"device_id": plan["device_id"], "batch_id": str(uuid.uuid4()), "sent_at": now}
            body = json.dumps({**batch, "events": events}).encode()
            headers = {"Content-Type": "application/json", "X-Device-Id": plan["device_id"],
                       "X-Device-Signature": base64.b64encode(key.sign(body)).decode()}  # fmt: skip
            expect(client.post("/api/v1/scans/batches", content=body, headers=headers), 200)
            return 1
        if kind == "checkin":
            mobile = f"+8869{rng.randrange(10, 90):02d}{rng.randrange(10**6):06d}"
            asked = {"mobile": mobile, "purpose": "visit", "venue_code": plan["venue_code"]}
            expect(client.post("/api/v1/otp/request", json=asked), 200)
            visit = {"venue_code": plan["venue_code"], "mobile": mobile, "code": sms.wait_code(mobile)}
            expect(client.post("/api/v1/visits", json=visit), 201)
            return 2
        if kind == "sms_login":
            mobile = rng.choice(plan["login_mobiles"])
            expect(client.post("/api/v1/otp/request", json={"mobile": mobile, "purpose": "login"}), 200)
            login = {"mobile": mobile, "code": sms.wait_code(mobile)}
            expect(client.post("/api/v1/auth/sms-login", json=login), 200)
            return 2
        raise AssertionError(kind)

    return op


def _schedule(ops: int) -> list[str]:
    """The mix's operations in its proportions, shuffled with a fixed seed: every round the same."""
    kinds = [k for k, w in load.MIX for _ in range(w)]
    per = ops // len(kinds) or 1
    schedule = kinds * per
    random.Random(1).shuffle(schedule)
    return schedule


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=300, help="operations of the mix per round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another checkout to time")
    parser.add_argument("--kinds", help="only these operations of the mix (comma-separated), e.g. pass_fetch")
    parser.add_argument("--py-spy", type=Path, help="record each hub with py-spy; flame graphs here")
    args = parser.parse_args()

    print(load._machine())
    work = Path(tempfile.mkdtemp(prefix="checkpass-cost-"))
    targets: list[tuple[str, TreeTarget]] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, tree in enumerate([ROOT, *args.tree]):
            label = "this hub" if i == 0 else f"{tree.name}"
            target = TreeTarget(label, f"sqlite:///{work / f'hub{i}.db'}", 1, work / f"hub{i}")
            target.tree = tree.resolve()
            target.work.mkdir()
            target.prepare()
            target.start()
            targets.append((label, target))
        floor_proc, floor_url = load.start_floor(work / "floor")
        procs.append(floor_proc)
        import httpx

        floor_client = httpx.Client(base_url=floor_url)
        plans = {label: target.plan() for label, target in targets}
        drivers = {label: _driver(plans[label]) for label, _ in targets}
        schedule = _schedule(args.ops)
        if args.kinds:
            schedule = [k for k in schedule if k in args.kinds.split(",")]
        for label, _ in targets:  # warm-up: pools, caches, first imports; not counted
            for kind in schedule[:60]:
                drivers[label](kind)
        for _ in range(50):
            floor_client.get("/floor/p1", headers={"Authorization": "Bearer t"})

        per_req: dict[str, list[float]] = {label: [] for label, _ in targets}
        per_kind: dict[str, dict[str, list[float]]] = {label: {} for label, _ in targets}
        # Each round's hub against the floor timed between its own blocks: the ratio of the same moments.
        per_ratio: dict[str, list[float]] = {label: [] for label, _ in targets}
        kind_ratio: dict[str, dict[str, list[float]]] = {label: {} for label, _ in targets}
        floor: list[float] = []
        floor_cpu: list[float] = [0.0, 0]
        spies: list[subprocess.Popen[bytes]] = []
        if args.py_spy:
            args.py_spy.mkdir(parents=True, exist_ok=True)
            for i, (_, target) in enumerate(targets):
                assert target.proc is not None
                out = (args.py_spy / f"hub{i}.txt").resolve()
                spies.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "--gil",
                            "--nonblocking",
                            "-f",
                            "raw",
                            "-r",
                            "250",
                            "-p",
                            str(target.proc.pid),
                            "-o",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                )
            time.sleep(1)
        for _ in range(args.repeat):
            for label, target in targets:
                cpu: dict[str, float] = {}
                count: dict[str, int] = {}
                beside = [0.0, 0]  # the floor's CPU and requests between this target's blocks
                for kind in dict.fromkeys(
                    k for k, _ in load.MIX if k in schedule
                ):  # each kind as one block: its CPU is read twice, not per request
                    before = target.cpu()
                    n = sum(drivers[label](k) for k in schedule if k == kind)
                    cpu[kind] = target.cpu() - before
                    count[kind] = n
                    # The floor in between, so that it and the hub share the machine's moments alike.
                    before = load._cpu_seconds(floor_proc.pid)
                    for _ in range(n):
                        floor_client.get("/floor/p1", headers={"Authorization": "Bearer t"})
                    floor_here = load._cpu_seconds(floor_proc.pid) - before
                    beside[0] += floor_here
                    beside[1] += n
                    kind_ratio[label].setdefault(kind, []).append(cpu[kind] / floor_here)
                floor_cpu[0] += beside[0]
                floor_cpu[1] += beside[1]
                per_req[label].append(sum(cpu.values()) * 1000 / sum(count.values()))
                per_ratio[label].append(per_req[label][-1] / (beside[0] * 1000 / beside[1]))
                for kind in cpu:
                    per_kind[label].setdefault(kind, []).append(cpu[kind] * 1000 / count[kind])
            floor.append(floor_cpu[0] * 1000 / floor_cpu[1])
            floor_cpu[:] = [0.0, 0]
        for spy in spies:
            spy.send_signal(2)  # SIGINT: py-spy writes its flame graph and exits
            spy.wait(timeout=60)

        floor_ms = statistics.median(floor)
        print(f"the floor: {floor_ms:.2f} ms CPU a request (rounds: {', '.join(f'{v:.2f}' for v in floor)})")
        for label, _ in targets:
            mix = statistics.median(per_req[label])
            rounds = ", ".join(f"{v:.2f}" for v in per_req[label])
            print(f"{label}: mix {mix:.2f} ms CPU a request = {mix / floor_ms:.2f}x the floor ({rounds})")
            ratios = per_ratio[label]
            print(
                f"    round by round, against the floor timed between its blocks: median "
                f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"
            )
            for kind, values in per_kind[label].items():
                against = statistics.median(kind_ratio[label][kind])
                ms = statistics.median(values)
                print(f"    {kind:<16} {ms:6.2f} ms a request, {against:.2f}x the floor")
        print(f"[{load._load()}]")
    finally:
        for _, target in targets:
            target.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
