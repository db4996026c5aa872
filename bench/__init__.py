"""berth's benchmark suite: what users feel, each figure beside a floor measured in the same
run on the same machine.

    python -m bench            the whole suite (about 10-15 minutes)
    python -m bench --quick    fewer repetitions (a few minutes)

It runs against a private berth root of its own (like the integration tests): Caddy on a free
loopback port, a `berth server` subprocess and an sshd on a loopback port whose key carries
berth's forced command. It prints a table, writes bench/results/latest.json and rewrites the
generated part of docs/benchmarks.md with the table and a chart (docs/benchmarks.png).
Nothing here is part of CI's pass/fail.

    env.py          the private berth root: server, Caddy, sshd, git pushes, cleanup
    stats.py        samples -> median / min / max; a Figure is one row of the table
    load.py         wrk (keep-alive) and a paced Python client (keep-alive or one connection
                    per request), both bounded in time
    byhand.py       the floor for deploys: the same Dockerfile built and run with docker
    figures/        one module per figure
    report.py       the table, latest.json, docs/benchmarks.md and the chart
"""
