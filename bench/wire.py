"""The transport's CPU per SDK call: ``python -m bench wire``.

Starts localcloud in its own process (0 ms latency) and makes the handler's two calls of a
message - list a server's ports (``ListPorts`` by ``device_id``), update one port's groups
(``UpdatePort``) - with three VPC clients built alike (default ``HttpConfig``, the timeout,
retries off, a pool of 16):

* ``stock``  - the SDK as it builds itself (requests' Session, urllib3);
* ``tuned``  - :func:`shared.cloud.transport.tune_client` with the wire off (``LeanSession`` over
  the SDK's adapter: what the handler used before ``shared.cloud.wire``);
* ``wire``   - ``tune_client`` as it is (plain calls on ``http.client`` connections).

Sequential: rounds of ``--calls`` pairs per variant, the variants' order rotated each round (A/B
interleaved: the machine is noisy), CPU ms per call (``time.process_time``) per round; the
medians are printed. Then 16 threads: each variant makes ``--calls`` x 4 pairs on 16 threads,
repeated ``--rounds`` times interleaved; CPU ms per call and calls/s, medians.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from statistics import median
from typing import Any

__all__ = ["run_wire", "render_wire", "VARIANTS"]

VARIANTS = ("stock", "tuned", "wire")
_THREADS = 16


def _clients(cloud: Any) -> dict[str, Any]:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkvpc.v2 import VpcClient

    from shared.cloud.transport import quiet_http_handler, tune_client

    def build(tuned: bool) -> Any:
        config = HttpConfig.get_default_config()
        config.timeout = (3, 10)
        config.retry_times = 0
        config.pool_connections = config.pool_maxsize = _THREADS
        builder = VpcClient.new_builder().with_http_config(config).with_endpoints([cloud.url])
        builder = builder.with_credentials(BasicCredentials(cloud.ak, cloud.sk, cloud.project_id))
        if tuned:
            builder = builder.with_http_handler(quiet_http_handler())
        client = builder.build()
        if tuned:
            tune_client(client, use_env=False)
        return client

    clients = {"stock": build(False), "tuned": build(True), "wire": build(True)}
    clients["tuned"].get_http_client()._session.use_wire = False
    return clients


def _pair(client: Any, server_id: str, port_id: str, groups: list[str]) -> None:
    from huaweicloudsdkvpc.v2 import ListPortsRequest, UpdatePortOption, UpdatePortRequest, UpdatePortRequestBody

    client.list_ports(ListPortsRequest(device_id=server_id, enterprise_project_id="all_granted_eps"))
    body = UpdatePortRequestBody(port=UpdatePortOption(security_groups=groups))
    client.update_port(UpdatePortRequest(port_id, body))


def run_wire(calls: int = 200, rounds: int = 7) -> dict:
    from .support import LocalCloudProcess, Workdir
    from .workload import build_seed

    seed, fleet = build_seed(_THREADS)
    targets = [(s.id, s.ports[0].id, list(s.ports[0].groups)) for s in fleet.servers]
    work = Workdir()
    sequential: dict[str, list[float]] = {name: [] for name in VARIANTS}
    threaded: dict[str, list[float]] = {name: [] for name in VARIANTS}
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    try:
        with LocalCloudProcess(work, seed=seed) as cloud:
            clients = _clients(cloud)
            for client in clients.values():  # warm: imports, model classes, one connection each
                _pair(client, *targets[0])
            for round_ in range(rounds):
                order = VARIANTS[round_ % 3 :] + VARIANTS[: round_ % 3]
                for name in order:
                    client = clients[name]
                    cpu = time.process_time()
                    for n in range(calls):
                        _pair(client, *targets[n % len(targets)])
                    sequential[name].append((time.process_time() - cpu) * 1000 / (2 * calls))
                for name in order:
                    client = clients[name]
                    jobs = [targets[n % len(targets)] for n in range(calls * 4)]
                    cpu, wall = time.process_time(), time.perf_counter()
                    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
                        list(pool.map(lambda job, c=client: _pair(c, *job), jobs))
                    elapsed = time.perf_counter() - wall
                    threaded[name].append((time.process_time() - cpu) * 1000 / (2 * len(jobs)))
                    rates[name].append(2 * len(jobs) / elapsed)
    finally:
        work.close()

    def summary(values: dict[str, list[float]], digits: int) -> dict[str, Any]:
        return {
            name: {"median": round(median(v), digits), "runs": [round(x, digits) for x in v]}
            for name, v in values.items()
        }

    def paired(values: dict[str, list[float]], name: str, base: str) -> float:
        """The median of the rounds' ratios (each round's variants ran back to back: the noise shared)."""
        return round(median(a / b for a, b in zip(values[name], values[base], strict=True)), 3)

    return {
        "wire_vs_tuned_cpu": {
            "sequential": paired(sequential, "wire", "tuned"),
            "threaded": paired(threaded, "wire", "tuned"),
        },
        "wire_vs_stock_cpu": {
            "sequential": paired(sequential, "wire", "stock"),
            "threaded": paired(threaded, "wire", "stock"),
        },
        "calls_per_round": 2 * calls,
        "rounds": rounds,
        "sequential_cpu_ms_per_call": summary(sequential, 3),
        "threads": _THREADS,
        "threaded_cpu_ms_per_call": summary(threaded, 3),
        "threaded_calls_per_s": summary(rates, 0),
    }


def render_wire(report: dict) -> str:
    lines = [
        f"SDK calls (ListPorts + UpdatePort) on localcloud, {report['rounds']} interleaved rounds, medians",
        f"{'variant':8} {'CPU ms/call':>12} {'vs stock':>9} {'16 thr CPU ms/call':>19} {'vs stock':>9}"
        f" {'16 thr calls/s':>15}",
    ]
    seq, thr, rate = (
        report[k] for k in ("sequential_cpu_ms_per_call", "threaded_cpu_ms_per_call", "threaded_calls_per_s")
    )
    for name in VARIANTS:
        lines.append(
            f"{name:8} {seq[name]['median']:>12.3f} {seq[name]['median'] / seq['stock']['median']:>9.2f}"
            f" {thr[name]['median']:>19.3f} {thr[name]['median'] / thr['stock']['median']:>9.2f}"
            f" {rate[name]['median']:>15.0f}"
        )
    for base in ("tuned", "stock"):
        ratios = report[f"wire_vs_{base}_cpu"]
        lines.append(
            f"wire / {base} CPU per call, median of the rounds' ratios: {ratios['sequential']:.2f} sequential,"
            f" {ratios['threaded']:.2f} on {report['threads']} threads"
        )
    return "\n".join(lines)
