#!/usr/bin/env python3
"""Client load for bench/hints.sh (keep-alive HTTP from threads; curl per request is far too slow).

  hints_load.py burst --nodes URL,.. --w W [--primary] --duration-s D --prefix P [--value-bytes B] [--threads T]
      closed loop of sets on new keys P-<thread>-<n> at W (primaryWrite=true with --primary) for D
      seconds, round-robin over the nodes; prints one JSON line: requests, ok, failed, seconds,
      reqPerS, okPerS, p50Ms, p99Ms and up to 3 distinct error texts.
  hints_load.py load --nodes URL,.. --keys N --w W --prefix P --tag TAG [--value-bytes B] [--threads T]
      writes keys P0..P{N-1} once each (value: TAG then padding), at most 3 tries each; prints one
      JSON line: ok, failed, seconds; exits 1 if a key could not be written.
  hints_load.py foreground --node URL --keys N --prefix P --tag TAG --rate R --stop-file F --out F [--threads T]
      paced get (R=2) / set (W=2, value TAG then padding) 50/50 on random keys P0..P{N-1} at about R requests/s in all, until F
      exists; a request that cannot connect is retried after 10 ms and not timed. Writes one JSON line
      per answered request to --out: {"t": unix seconds at send, "ms": latency, "op", "status"}.
"""
import argparse, http.client, json, math, os, random, sys, threading, time, urllib.parse

TIMEOUT_S = 30


def connect(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)


def send(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def set_path(w, primary):
    return f"/meteora/set?writeConsistency={w}" + ("&primaryWrite=true" if primary else "")


def set_body(key, value):
    return json.dumps({"key": key, "value": value})


def padded(tag, size):
    return (tag + "-" * size)[:size] if size >= len(tag) else tag


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]  # nearest rank


def error_text(body):
    try:
        return json.loads(body).get("error", "")[:160]
    except (ValueError, AttributeError):
        return body[:160].decode("utf-8", "replace")


def burst(args):
    nodes = args.nodes.split(",")
    lock = threading.Lock()
    latencies, errors = [], {}
    counts = [0, 0]
    deadline = time.monotonic() + args.duration_s
    value = "x" * args.value_bytes

    def worker(tid):
        conns = [connect(n) for n in nodes]
        n = 0
        mine, ok, failed, seen = [], 0, 0, {}
        while time.monotonic() < deadline:
            i = (tid + n) % len(nodes)
            key = f"{args.prefix}-{tid}-{n}"
            n += 1
            started = time.monotonic()
            try:
                status, body = send(conns[i], "PUT", set_path(args.w, args.primary), set_body(key, value))
            except (OSError, http.client.HTTPException) as e:
                status, body = 0, str(e).encode()
                conns[i] = connect(nodes[i])
            mine.append((time.monotonic() - started) * 1000)
            if status == 200:
                ok += 1
            else:
                failed += 1
                text = f"HTTP {status}: {error_text(body)}"
                seen[text] = seen.get(text, 0) + 1
        with lock:
            latencies.extend(mine)
            counts[0] += ok
            counts[1] += failed
            for text, c in seen.items():
                errors[text] = errors.get(text, 0) + c

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    seconds = time.monotonic() - started
    latencies.sort()
    total = counts[0] + counts[1]
    top = sorted(errors.items(), key=lambda e: -e[1])[:3]
    print(json.dumps({"requests": total, "ok": counts[0], "failed": counts[1], "seconds": round(seconds, 2),
                      "reqPerS": round(total / seconds, 1), "okPerS": round(counts[0] / seconds, 1),
                      "p50Ms": round(percentile(latencies, 50), 2), "p99Ms": round(percentile(latencies, 99), 2),
                      "errors": [f"{c}x {t}" for t, c in top]}))
    return 0


def load(args):
    nodes = args.nodes.split(",")
    failures, lock = [], threading.Lock()

    def worker(tid):
        conns = [connect(n) for n in nodes]
        for i in range(tid, args.keys, args.threads):
            key = f"{args.prefix}{i}"
            j = i % len(nodes)
            for _ in range(3):
                try:
                    status, _ = send(conns[j], "PUT", set_path(args.w, False), set_body(key, padded(args.tag, args.value_bytes)))
                    if status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    conns[j] = connect(nodes[j])
            else:
                with lock:
                    failures.append(key)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    seconds = time.monotonic() - started
    print(json.dumps({"ok": args.keys - len(failures), "failed": len(failures), "seconds": round(seconds, 2)}))
    if failures:
        print(f"hints_load: {len(failures)} keys not written, e.g. {failures[:5]}", file=sys.stderr)
        return 1
    return 0


def foreground(args):
    lock = threading.Lock()
    records = []
    interval_s = args.threads / args.rate

    def worker(tid):
        rng = random.Random(tid)
        conn = None
        mine = []
        next_send = time.monotonic()
        while not os.path.exists(args.stop_file):
            key = f"{args.prefix}{rng.randrange(args.keys)}"
            is_set = rng.random() < 0.5
            if conn is None:
                conn = connect(args.node)
            sent_at = time.time()
            started = time.monotonic()
            try:
                if is_set:
                    status, _ = send(conn, "PUT", set_path(2, False), set_body(key, padded(args.tag, args.value_bytes)))
                else:
                    status, _ = send(conn, "GET", f"/meteora/get/{key}?readConsistency=2")
            except (OSError, http.client.HTTPException):
                conn = None  # node down or restarting: not an answer, not timed
                time.sleep(0.01)
                continue
            mine.append({"t": round(sent_at, 4), "ms": round((time.monotonic() - started) * 1000, 3),
                         "op": "set" if is_set else "get", "status": status})
            next_send += interval_s
            pause = next_send - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                next_send = time.monotonic()  # behind schedule: do not burst to catch up
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with open(args.out, "w") as out:
        for r in sorted(records, key=lambda r: r["t"]):
            out.write(json.dumps(r) + "\n")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["burst", "load", "foreground"])
    parser.add_argument("--nodes")
    parser.add_argument("--node")
    parser.add_argument("--keys", type=int)
    parser.add_argument("--w", type=int, default=2)
    parser.add_argument("--primary", action="store_true")
    parser.add_argument("--duration-s", type=float, default=10)
    parser.add_argument("--prefix", default="k")
    parser.add_argument("--tag", default="v")
    parser.add_argument("--value-bytes", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--stop-file")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.mode in ("burst", "load") and not args.nodes:
        parser.error(f"{args.mode} needs --nodes")
    if args.mode == "load" and not args.keys:
        parser.error("load needs --keys")
    if args.mode == "foreground" and not (args.node and args.keys and args.stop_file and args.out and args.rate > 0):
        parser.error("foreground needs --node, --keys, --stop-file, --out and a positive --rate")
    sys.exit({"burst": burst, "load": load, "foreground": foreground}[args.mode](args))


if __name__ == "__main__":
    main()
