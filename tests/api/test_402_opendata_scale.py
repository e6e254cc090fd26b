"""A build of 20,000 persons runs beside the live API (issue 13): requests
keep being answered during `atelier opendata build`, and the release it
publishes has both strata at the defaults (--min-stratum 1000)."""

import subprocess
import threading
import time

import requests

from accounts_helpers import bearer, create_account, outbox
from conftest import server_env
from opendata_helpers import assert_meta_shape, build_args, fetch_release, populate


def test_420_a_build_of_20000_persons_does_not_block_the_api(server_factory, backend):
    big = server_factory.start()
    acc = create_account(big, outbox(big), "odlive")
    t0 = time.monotonic()
    populate(big, 20000, 11)
    populate_s = time.monotonic() - t0

    samples = {"healthz": [], "account": []}
    errors = []
    stop = threading.Event()

    def poll(kind, path, headers):
        s = requests.Session()
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = s.get(big.url(path), headers=headers, timeout=10)
                samples[kind].append((t, time.monotonic() - t, r.status_code))
            except requests.RequestException as e:
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            time.sleep(0.005)

    threads = [threading.Thread(target=poll, args=("healthz", "/healthz", {})),
               threading.Thread(target=poll, args=("account", "/v1/account", bearer(acc.token)))]
    for th in threads:
        th.start()
    try:
        time.sleep(0.3)  # baseline samples before the build
        start = time.monotonic()
        proc = subprocess.Popen(build_args(big, "--ignore-cadence"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=server_env(),
                                stdin=subprocess.DEVNULL)
        out, err = proc.communicate(timeout=600)
        end = time.monotonic()
        time.sleep(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=30)
    assert proc.returncode == 0, f"build exited {proc.returncode}\n{out}\n{err[-3000:]}"
    assert not errors, errors[:5]
    report = [f"\n[{backend}] populate 20000: {populate_s:.2f} s; build: {end - start:.2f} s"]
    for kind, got in samples.items():
        during = [(t, lat, st) for t, lat, st in got if start <= t <= end]
        assert len(during) >= 3, f"{kind}: only {len(during)} requests during the build"
        bad = [(round(lat, 3), st) for _t, lat, st in got if st != 200]
        assert not bad, f"{kind}: non-200 answers: {bad[:10]}"
        lats = sorted(lat for _t, lat, _st in during)
        report.append(f"  {kind}: {len(during)} requests during the build, max "
                      f"{lats[-1] * 1000:.1f} ms, median {lats[len(lats) // 2] * 1000:.1f} ms")
    print("\n".join(report))

    rel = fetch_release(big)
    assert_meta_shape(rel.meta, min_stratum=1000)  # the defaults: rho 0.25, --min-stratum 1000
    for name in ("with_breasts", "without_breasts"):
        s = rel.meta["strata"][name]
        assert s["published"] is True and s["rows"] > 5000, {k: s[k] for k in ("published", "rows")}
    assert len(rel.rows) == sum(rel.meta["strata"][n]["rows"] for n in rel.meta["strata"])
