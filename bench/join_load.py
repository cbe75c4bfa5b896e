#!/usr/bin/env python3
"""Client load for bench/join.sh (keep-alive HTTP from threads; curl per request is far too slow).

  join_load.py load   --nodes URL,URL,.. --keys N --value-bytes B [--threads T]
      writes keys k0..k{N-1} once each (W=2), round-robin over the nodes; exits 1 if any write failed.
  join_load.py steady --nodes URL,URL,.. --keys N --value-bytes B --stop-file F --out F [--threads T]
      mixes set (W=2) and get (R=2) 50/50 on random keys until F exists; writes one JSON line per
      second of wall time to --out: {"t": unix_second, "ok": n, "failed": m} (failed: non-2xx other
      than a get's 404, or no answer).
"""
import argparse, http.client, json, os, random, sys, threading, time, urllib.parse

def connect(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)

def send(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status

def set_body(key, value):
    return json.dumps({"key": key, "value": value})

def load(args):
    nodes = args.nodes.split(",")
    failures = []
    def worker(tid):
        conns = [connect(n) for n in nodes]
        for i in range(tid, args.keys, args.threads):
            key = f"k{i}"
            value = (key + "-") * (args.value_bytes // (len(key) + 1) + 1)
            for attempt in range(3):
                try:
                    status = send(conns[i % len(conns)], "PUT", "/meteora/set?writeConsistency=2", set_body(key, value[: args.value_bytes]))
                    if status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    conns[i % len(conns)] = connect(nodes[i % len(conns)])
            else:
                failures.append(key)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    if failures:
        print(f"join_load: {len(failures)} keys not written, e.g. {failures[:5]}", file=sys.stderr)
        return 1
    return 0

def steady(args):
    nodes = args.nodes.split(",")
    lock = threading.Lock()
    buckets = {}
    def count(ok):
        second = int(time.time())
        with lock:
            b = buckets.setdefault(second, [0, 0])
            b[0 if ok else 1] += 1
    def worker(tid):
        rng = random.Random(tid)
        conns = {}
        while not os.path.exists(args.stop_file):
            node = nodes[rng.randrange(len(nodes))]
            conn = conns.get(node) or conns.setdefault(node, connect(node))
            key = f"k{rng.randrange(args.keys)}"
            try:
                if rng.random() < 0.5:
                    status = send(conn, "PUT", "/meteora/set?writeConsistency=2", set_body(key, "s" * args.value_bytes))
                    count(status == 200)
                else:
                    status = send(conn, "GET", f"/meteora/get/{key}?readConsistency=2")
                    count(status in (200, 404))
            except (OSError, http.client.HTTPException):
                count(False)
                conns.pop(node, None)
                time.sleep(0.05)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with open(args.out, "w") as out:
        for second in sorted(buckets):
            ok, failed = buckets[second]
            out.write(json.dumps({"t": second, "ok": ok, "failed": failed}) + "\n")
    return 0

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["load", "steady"])
    parser.add_argument("--nodes", required=True)
    parser.add_argument("--keys", type=int, required=True)
    parser.add_argument("--value-bytes", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--stop-file")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.mode == "steady" and (not args.stop_file or not args.out):
        parser.error("steady needs --stop-file and --out")
    sys.exit(load(args) if args.mode == "load" else steady(args))

if __name__ == "__main__":
    main()
