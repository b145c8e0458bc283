#!/usr/bin/env python3
"""Regenerates the shop scenario's telemetry (deterministic; no randomness).

redis-cart stops answering at 10:00:00. Its clients fail one after the other:
cartservice from 10:01:15, checkoutservice from 10:01:30 (its pool to the cart
fills up from 10:02:30), the frontend from 10:01:45 (its liveness probe calls
the cart, so Kubernetes crash-loops it from 10:03). The naive runbooks —
restart the frontend, flush the checkout pool — would be wrong.
"""
import json
from datetime import datetime, timezone

T0 = int(datetime(2026, 3, 10, 9, 55, tzinfo=timezone.utc).timestamp() * 1000)
MIN = 60_000
FAIL = T0 + 5 * MIN  # 10:00:00
END = T0 + 13 * MIN  # 10:08:00
STEP = 15_000


def at(offset_s):
    return FAIL + offset_s * 1000


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


services = ["frontend", "checkoutservice", "cartservice", "productcatalogservice", "currencyservice",
            "paymentservice", "shippingservice", "emailservice", "recommendationservice", "adservice"]
replicas = {"frontend": 3, "checkoutservice": 2, "cartservice": 2, "productcatalogservice": 2,
            "currencyservice": 2, "paymentservice": 2}
errors_from = {"cartservice": at(75), "checkoutservice": at(90), "frontend": at(105)}
error_level = {"cartservice": 0.42, "checkoutservice": 0.31, "frontend": 0.27}

metrics = []
for t in range(T0, END + 1, STEP):
    metrics.append({"type": "metric", "name": "redis_up", "labels": {"service": "redis-cart", "job": "redis-exporter"},
                    "value": 1 if t < FAIL else 0, "at": t, "kind": "gauge"})
    for s in services:
        failing = s in errors_from and t >= errors_from[s]
        ratio = error_level[s] if failing else 0.002
        metrics.append({"type": "metric", "name": "http_server_error_ratio", "labels": {"service": s},
                        "value": ratio, "at": t, "kind": "gauge"})
        p99 = 2.4 if failing else 0.18
        metrics.append({"type": "metric", "name": "http_server_latency_p99_seconds", "labels": {"service": s},
                        "value": p99, "at": t, "kind": "gauge"})
        metrics.append({"type": "metric", "name": "kube_deployment_status_replicas_available",
                        "labels": {"service": s, "namespace": "shop"}, "value": replicas.get(s, 1), "at": t,
                        "kind": "gauge"})
    pool = 1.0 if t >= at(150) else (0.35 if t < at(90) else 0.8)
    metrics.append({"type": "metric", "name": "db_client_connections_usage_ratio",
                    "labels": {"service": "checkoutservice", "pool": "cart"}, "value": pool, "at": t,
                    "kind": "gauge"})

with open("metrics.ndjson", "w") as f:
    f.write("# shop scenario: metrics every 15s, 09:55:00Z to 10:08:00Z; redis-cart stops at 10:00:00Z\n")
    for m in metrics:
        f.write(json.dumps(m, separators=(",", ":")) + "\n")

logs = []
for k in range(0, 24):
    t = at(75 + k * 15)
    logs.append({"type": "log", "attributes": {"service": "cartservice"}, "severity": "error", "at": t,
                 "body": "Can't access cart storage. StackExchange.Redis.RedisConnectionException: "
                         "It was not possible to connect to the redis server(s). ECONNREFUSED redis-cart:6379"})
for k in range(0, 20):
    t = at(150 + k * 15)
    logs.append({"type": "log", "attributes": {"service": "checkoutservice"}, "severity": "error", "at": t,
                 "body": "failed to get user cart during checkout: rpc error: code = Unavailable; "
                         "pool cart: timeout waiting for connection"})
logs.sort(key=lambda r: r["at"])
with open("logs.ndjson", "w") as f:
    f.write("# shop scenario: application logs\n")
    for r in logs:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")

events = {"apiVersion": "v1", "kind": "EventList", "items": []}
for i, (first, last, count) in enumerate([(at(180), at(240), 2), (at(200), at(300), 3)]):
    pod = ["frontend-6b8f7d9c5-k2x7p", "frontend-6b8f7d9c5-q9w4z"][i]
    events["items"].append({
        "metadata": {"name": f"{pod}.17a3c{i}", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": pod},
        "reason": "BackOff", "type": "Warning",
        "message": "Back-off restarting failed container server in pod " + pod,
        "count": count, "firstTimestamp": iso(first), "lastTimestamp": iso(last),
        "source": {"component": "kubelet"},
    })
with open("k8s-events.payload", "w") as f:
    json.dump(events, f, indent=2)
    f.write("\n")

alerts = {
    "version": "4", "groupKey": "{}:{alertname=~\".*\"}", "status": "firing", "receiver": "healbot",
    "groupLabels": {}, "commonLabels": {"namespace": "shop"}, "commonAnnotations": {},
    "externalURL": "http://alertmanager.monitoring:9093", "truncatedAlerts": 0,
    "alerts": [
        {"status": "firing", "labels": {"alertname": "RedisDown", "service": "redis-cart", "namespace": "shop",
                                         "severity": "critical"},
         "annotations": {"summary": "Redis down (instance redis-cart:6379)"},
         "startsAt": iso(at(120)), "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus.monitoring:9090/graph", "fingerprint": "4c1b2a9e0d3f5a61"},
        {"status": "firing", "labels": {"alertname": "KubePodCrashLooping", "service": "frontend",
                                         "namespace": "shop", "pod": "frontend-6b8f7d9c5-k2x7p",
                                         "severity": "warning"},
         "annotations": {"description": "Pod shop/frontend-6b8f7d9c5-k2x7p is in waiting state (reason: CrashLoopBackOff)."},
         "startsAt": iso(at(240)), "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus.monitoring:9090/graph", "fingerprint": "9e8d7c6b5a4f3e21"},
    ],
}
with open("alertmanager.payload", "w") as f:
    json.dump(alerts, f, indent=2)
    f.write("\n")
