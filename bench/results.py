"""What `dev.py bench` reports: a table a person reads at a glance, the targets with PASS or MISS, the machine and
the versions measured on, and beside the JSON and Markdown in `bench-results/` a chart (req/s and p99 per path
against the bare route)."""

import json
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

BARE = "bare Litestar route (yardstick)"
KNOWN = "connection-details (existing user)"
ASKED = "connection-details (existing user, identity asked)"
NEW_CLAIMS = "connection-details (new user, profile in the token)"
NEW = "connection-details (new user, Clerk asked)"
ENSURE = "ensure-user (existing user)"
WEBHOOK = "Clerk webhook (new event)"
FLOOR_READ = "floor: one read (libraries alone)"
FLOOR_WRITE = "floor: one durable write (libraries alone)"
FLOOR_CALL = "floor: a call, then a read (libraries alone)"
FLAT_SMALL = "identity asked, 1k users (rounds alternating with 1M)"
FLAT_BIG = "identity asked, 1M users (rounds alternating with 1k)"
RESULTS = Path(__file__).resolve().parents[1] / "bench-results"


def machine() -> dict[str, Any]:
    """The CPU, its cores, and the versions of what the figures depend on."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            model,
        )
    packages = ("litestar", "granian", "asyncpg", "msgspec", "pyjwt", "aiohttp", "uvloop")
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **{package: version(package) for package in packages},
    }


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
    """Issue 29's targets, each a ratio to the bare route measured in the same run (or to another path)."""
    bare = results[BARE]["rps"]
    known, asked, ensure, hook = results[KNOWN], results[ASKED], results[ENSURE], results[WEBHOOK]
    claims, clerk = results[NEW_CLAIMS], results[NEW]
    read, write, call = (results[name]["rps"] / bare for name in (FLOOR_READ, FLOOR_WRITE, FLOOR_CALL))
    found = [
        (
            f"connection-details, known user ≥ 27% of bare ({known['rps'] / bare:.0%}; its floor, a read: {read:.0%}), "
            f"p99 ≤ 15 ms ({known['p99_ms']:.1f} ms), 0 errors ({known['errors']})",
            known["rps"] >= 0.27 * bare and known["p99_ms"] <= 15 and known["errors"] == 0,
        ),
        (
            f"connection-details, identity asked ≥ 12% of bare ({asked['rps'] / bare:.0%}; its floor, a call and a "
            f"read: {call:.0%})",
            asked["rps"] >= 0.12 * bare,
        ),
        (
            f"a new user's start (profile in the token) ≥ 60% of a known user's first start "
            f"({claims['rps'] / asked['rps']:.0%}), p50 within 1.5x ({claims['p50_ms']:.1f} vs "
            f"{asked['p50_ms']:.1f} ms; Clerk asked: {clerk['p50_ms']:.1f} ms at {clerk['rps']:.0f} req/s)",
            claims["rps"] >= 0.6 * asked["rps"] and claims["p50_ms"] <= 1.5 * asked["p50_ms"],
        ),
        (
            f"ensure-user ≥ 45% of bare ({ensure['rps'] / bare:.0%}; its floor, a read: {read:.0%})",
            ensure["rps"] >= 0.45 * bare,
        ),
        (
            f"webhooks ≥ 28% of bare ({hook['rps'] / bare:.0%}; its floor, a durable write: {write:.0%})",
            hook["rps"] >= 0.28 * bare,
        ),
    ]
    if FLAT_BIG in results:
        big, small = results[FLAT_BIG], results[FLAT_SMALL]
        found.append(
            (
                f"identity asked: p50 with 1M users within 10% of 1k users ({big['p50_ms']:.2f} vs "
                f"{small['p50_ms']:.2f} ms)",
                big["p50_ms"] <= 1.1 * small["p50_ms"],
            )
        )
    return found


def _columns(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    bare = results[BARE]["rps"]
    lines = [["path", "req/s", "of bare", "p50 ms", "p99 ms", "errors", "ceiling/s", "sessions ms", "identity ms"]]
    for name, r in results.items():
        cpu = r.get("cpu_ms_per_request", {})
        lines.append(
            [
                name,
                f"{r['rps']:.0f}",
                f"{r['rps'] / bare:.0%}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                str(r["errors"]),
                f"{r['ceiling']:.0f}" if r.get("ceiling") else "-",
                f"{cpu['sessions']:.3f}" if cpu else "-",
                f"{cpu['identity']:.3f}" if cpu else "-",
            ]
        )
    return lines


def console_table(results: dict[str, dict[str, Any]]) -> str:
    """Aligned columns: the path, then its figures (CPU: milliseconds of each service per request)."""
    lines = _columns(results)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    rendered = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    return "\n".join([rendered[0], "-" * len(rendered[0]), *rendered[1:]])


def markdown(results: dict[str, dict[str, Any]], found: list[tuple[str, bool]], about: dict[str, Any]) -> str:
    lines = _columns(results)
    table = [f"| {' | '.join(lines[0])} |", "|" + "---|" * len(lines[0])]
    table += [f"| {' | '.join(line)} |" for line in lines[1:]]
    checks = [f"- {'PASS' if ok else 'MISS'}: {label}" for label, ok in found]
    machine_line = ", ".join(f"{key} {value}" for key, value in about.items())
    return "\n".join([*table, "", *checks, "", f"Measured on: {machine_line}."]) + "\n"


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Two panels: each path's requests/s (the bare route a dashed line) and its p99 latency."""
    import matplotlib  # noqa: PLC0415 (the benchmark's own dependency, loaded when it reports)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = [name for name in results if name != BARE]
    labels = [name.replace("connection-details ", "start ").replace(" (", "\n(") for name in names]
    figure, (rates, latencies) = plt.subplots(1, 2, figsize=(15, 6.5), constrained_layout=True)
    floors = {FLOOR_READ, FLOOR_WRITE, FLOOR_CALL}  # the libraries alone: grey, apart from the paths
    colors = ["#9aa5b1" if name in floors else "#3b6ea8" for name in names]
    rates.barh(labels, [results[name]["rps"] for name in names], color=colors)
    rates.axvline(results[BARE]["rps"], color="#888", linestyle="--", label=f"bare route {results[BARE]['rps']:.0f}/s")
    for index, name in enumerate(names):
        share = results[name]["rps"] / results[BARE]["rps"]
        rates.text(results[name]["rps"], index, f" {results[name]['rps']:.0f}/s ({share:.0%})", va="center")
    rates.set_xlabel("requests per second")
    rates.set_title("Throughput against the bare route")
    rates.legend(loc="lower right")
    rates.invert_yaxis()
    latencies.barh(labels, [results[name]["p99_ms"] for name in names], color="#c0504d")
    latencies.barh(labels, [results[name]["p50_ms"] for name in names], color="#e8a09e", label="p50")
    latencies.axvline(
        results[BARE]["p99_ms"], color="#888", linestyle="--", label=f"bare p99 {results[BARE]['p99_ms']:.1f} ms"
    )
    latencies.set_xscale("log")  # a path waiting on Clerk is a hundred times a local one
    latencies.set_xlabel("milliseconds, log scale (p99, p50 lighter)")
    latencies.set_title("Latency")
    latencies.legend(loc="lower right")
    latencies.invert_yaxis()
    latencies.set_yticklabels([])
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: dict[str, dict[str, Any]], memory: dict[str, tuple[int, int]], *, quick: bool) -> None:
    """Print the table and targets; write JSON, Markdown and the chart to `bench-results/`."""
    about = machine()
    found = targets(results)
    found += [
        (
            f"{name} RSS after the run within 10% of after the first starts"
            f" ({after / 2**20:.0f} vs {warm / 2**20:.0f} MiB)",
            after <= 1.1 * warm,
        )
        for name, (warm, after) in memory.items()
    ]
    print("\n" + console_table(results) + "\n")
    for label, ok in found:
        print(f"{'PASS' if ok else 'MISS'}  {label}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ("-quick" if quick else "")
    (RESULTS / f"{stamp}.json").write_text(json.dumps({"machine": about, "results": results}, indent=2))
    (RESULTS / f"{stamp}.md").write_text(f"# Benchmark {stamp}\n\n{markdown(results, found, about)}")
    chart(results, RESULTS / f"{stamp}.png")
    print(
        f"\nmeasured on {about['cpu']} ({about['cores']} cores), Python {about['python']}, litestar "
        f"{about['litestar']}, granian {about['granian']}, asyncpg {about['asyncpg']}"
    )
    print(f"results written to {RESULTS}/{stamp}.{{json,md,png}}")
