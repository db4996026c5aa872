"""The benchmark suite's pure parts: reading wrk's output, figures' verdicts, and rewriting
only the generated block of docs/benchmarks.md. (The suite itself is not run by CI.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report
from bench.load import parse_wrk
from bench.stats import Figure

WRK = """Running 5s test @ http://127.0.0.1:8080/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.12ms    5.01ms  80.00ms   90.00%
    Req/Sec     2.50k   200.00     3.00k    70.00%
  Latency Distribution
     50%    9.50ms
     75%   12.00ms
     90%   15.00ms
     99%    1.20s
  25000 requests in 5.00s, 3.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 0
  Non-2xx or 3xx responses: 2
Requests/sec:   4999.50
Transfer/sec:    614.00KB
"""


def test_parse_wrk_reads_rate_latency_and_every_failure() -> None:
    r = parse_wrk(WRK)
    assert (r.requests, r.rps, r.p50_ms, r.p99_ms) == (25000, 4999.5, 9.5, 1200.0)
    assert r.socket_errors == {"connect": 0, "read": 3, "write": 1, "timeout": 0}
    assert r.non_2xx == 2 and r.failed == 6


def test_parse_wrk_refuses_what_it_cannot_read() -> None:
    with pytest.raises(RuntimeError, match="unreadable wrk output"):
        parse_wrk("wrk: connection refused\n")


def test_figure_ratios_pair_samples_and_judge_the_median() -> None:
    fig = Figure(key="k", title="t", unit="s", target="<= 2x", ratio_max=2.0,
                 value=[2.0, 3.0, 9.0], floor=[1.0, 1.0, 3.0])
    assert fig.ratios() == [2.0, 3.0, 3.0]
    assert fig.summary()["ratio"]["median"] == 3.0 and fig.passed() is False
    fast = Figure(key="k", title="t", unit="req/s", target=">= 0.9x", ratio_min=0.9,
                  value=[95.0], floor=[100.0])
    assert fast.passed() is True
    p99 = Figure(key="k", title="t", unit="ms", target="+1 ms", diff_max=1.0,
                 value=[3.0], floor=[2.5])
    assert p99.passed() is True
    assert Figure(key="k", title="t", unit="s", target="", value=[1.0]).passed() is None
    assert Figure(key="k", title="t", unit="s", target="", value_max=5.0,
                  error="boom").passed() is False


def test_docs_keep_their_prose_and_replace_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    meta = {"finished_at": "now", "quick": True, "duration_s": 60.0, "machine": "m",
            "loadavg_before": [1.0, 1.0, 1.0], "loadavg_after": [2.0, 2.0, 2.0]}
    figs = [Figure(key="k", title="redeploy", unit="s", target="< 5 s", value_max=5.0,
                   value=[1.5, 2.5], floor_title="by hand", floor=[1.0, 1.0])]
    doc.write_text(f"# Benchmarks\n\nprose before\n\n{report.BEGIN}\nold\n{report.END}\n\n"
                   "prose after\n")
    report.update_docs(doc, meta, figs, "unused")
    text = doc.read_text()
    assert "prose before" in text and "prose after" in text and "\nold\n" not in text
    assert "| redeploy | 2.00 s (1.50 s–2.50 s) | 1.00 s (1.00 s–1.00 s) | 2.00x" in text
    report.update_docs(doc, meta, figs, "unused")
    assert doc.read_text() == text  # idempotent


def test_entry_of_reads_what_a_console_script_calls() -> None:
    from bench.figures.cli import entry_of

    old = ("#!/opt/berth/venv/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
           "from berth.cli.main import main\nif __name__ == '__main__':\n"
           "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
           "    sys.exit(main())\n")
    new = ("#!/opt/berth/venv/bin/python3\nimport sys\nfrom berth.entry import main\n"
           "if __name__ == '__main__':\n    sys.exit(main())\n")
    assert entry_of(old) == "berth.cli.main:main (the script imports re)"
    assert entry_of(new) == "berth.entry:main"
    assert entry_of("#!/bin/sh\nexec true\n") == "unknown"
