#!/usr/bin/env python3
"""Regenerates the catalog-suspect scenario's telemetry (deterministic).

productcatalogservice starts returning empty pages at 14:00:00 but its own
metrics look healthy (its errors are 200 OK with an empty body). Its callers
fail: recommendationservice and checkoutservice from 14:00:30, and the
frontend, which calls both, from 14:01:00. No diagnosis names the catalog,
so HealBot infers it as the shared suspect and escalates: the right answer
is a person, not a restart of the callers.
"""
import json
from datetime import datetime, timezone

T0 = int(datetime(2026, 3, 11, 13, 55, tzinfo=timezone.utc).timestamp() * 1000)
MIN = 60_000
FAIL = T0 + 5 * MIN
END = T0 + 12 * MIN
STEP = 15_000

services = ["frontend", "checkoutservice", "cartservice", "productcatalogservice", "currencyservice",
            "paymentservice", "shippingservice", "emailservice", "recommendationservice", "adservice"]
replicas = {"frontend": 3, "checkoutservice": 2, "cartservice": 2, "productcatalogservice": 2,
            "currencyservice": 2, "paymentservice": 2}
errors_from = {"recommendationservice": FAIL + 30_000, "checkoutservice": FAIL + 30_000, "frontend": FAIL + 60_000}
level = {"recommendationservice": 0.35, "checkoutservice": 0.22, "frontend": 0.18}

rows = []
for t in range(T0, END + 1, STEP):
    rows.append({"type": "metric", "name": "redis_up", "labels": {"service": "redis-cart"}, "value": 1, "at": t})
    for s in services:
        failing = s in errors_from and t >= errors_from[s]
        rows.append({"type": "metric", "name": "http_server_error_ratio", "labels": {"service": s},
                     "value": level[s] if failing else 0.001, "at": t})
        rows.append({"type": "metric", "name": "http_server_latency_p99_seconds", "labels": {"service": s},
                     "value": 0.21, "at": t})
        rows.append({"type": "metric", "name": "kube_deployment_status_replicas_available",
                     "labels": {"service": s}, "value": replicas.get(s, 1), "at": t})
for k in range(0, 16):
    t = FAIL + 30_000 + k * 20_000
    for s in ["recommendationservice", "checkoutservice"]:
        rows.append({"type": "log", "attributes": {"service": s}, "severity": "error", "at": t,
                     "body": "ListProducts returned 0 products; catalog response empty (productcatalogservice:3550)"})
rows.sort(key=lambda r: (r["at"], r["type"]))
with open("telemetry.ndjson", "w") as f:
    f.write("# catalog-suspect scenario: 13:55:00Z to 14:07:00Z; productcatalogservice degrades silently at 14:00:00Z\n")
    for r in rows:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
