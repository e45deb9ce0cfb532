"""Send one support-ticket chat completion to each local server and report latency and shape.

Stdlib only, so any Python 3.11 runs it:

    python examples/local-models/smoke.py                 # plain request
    python examples/local-models/smoke.py --json-mode     # + response_format json_object
    python examples/local-models/smoke.py --seed 7        # + seed

Exits non-zero if a server does not answer with a chat.completion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

SYSTEM = (
    "You are a support-operations triage assistant. Reply with ONE JSON object and nothing "
    "else, with exactly these keys: "
    '"category" (one of "billing", "outage", "account", "shipping", "other"), '
    '"priority" (one of "p1", "p2", "p3"), '
    '"should_refuse" (boolean), '
    '"summary" (string, one sentence), '
    '"actions" (array of short strings), '
    '"customer_reply" (string), '
    '"tool_calls" (array of objects with "name" and "arguments").'
)
USER = (
    "Ticket #4821 from ACME Corp: Since 09:10 UTC every checkout on our store fails with "
    "'payment gateway timeout'. We are losing orders every minute. Please help urgently."
)

SERVERS = {
    "baseline": ("http://127.0.0.1:8081/v1", "smollm2-135m"),
    "candidate": ("http://127.0.0.1:8082/v1", "gemma3-270m"),
}


def post(url: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, Any], float]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read())
            status = resp.status
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, {"error": exc.read().decode(errors="replace")}
    return status, payload, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json-mode", action="store_true", help="send response_format json_object")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", choices=sorted(SERVERS), default=None)
    args = ap.parse_args()

    failed = 0
    for name, (base, model) in SERVERS.items():
        if args.only and name != args.only:
            continue
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": USER},
            ],
            "temperature": 0,
            "max_tokens": args.max_tokens,
        }
        if args.json_mode:
            body["response_format"] = {"type": "json_object"}
        if args.seed is not None:
            body["seed"] = args.seed
        status, payload, secs = post(f"{base}/chat/completions", body, args.timeout)
        print(f"== {name} ({model}) HTTP {status} in {secs:.2f}s")
        if status != 200 or payload.get("object") != "chat.completion":
            print(json.dumps(payload, indent=2)[:2000])
            failed += 1
            continue
        choice = payload["choices"][0]
        content = choice["message"].get("content") or ""
        try:
            json.loads(content)
            parses = True
        except ValueError:
            parses = False
        usage = payload.get("usage", {})
        tps = usage.get("completion_tokens", 0) / secs if secs else 0.0
        print(f"   model={payload.get('model')!r} finish_reason={choice.get('finish_reason')!r}")
        print(f"   usage={usage} (~{tps:.1f} completion tok/s incl. prompt eval)")
        print(f"   content parses as JSON: {parses}")
        print("   content: " + content[:1200].replace("\n", "\n            "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
