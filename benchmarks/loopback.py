"""The benchmarks' loopback OpenAI-compatible endpoint, in its own process, and their datasets."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "examples" / "support-ops" / "dataset.json"
ANSWER = json.dumps(
    {
        "category": "incident",
        "priority": "P1",
        "should_refuse": False,
        "summary": "Checkout errors after deploy",
        "actions": ["rollback the deploy", "update the status page"],
        "customer_reply": "We are rolling back the change and will update the status page.",
        "tool_calls": [
            {
                "tool_name": "Incident.Declare",
                "arguments": {
                    "query": None,
                    "customerId": None,
                    "incidentId": "INC-1",
                    "amountUsd": None,
                    "replyIntent": None,
                },
            }
        ],
    }
)


def serve(port_out: Any, delay_s: float, control: Any = None, content: str = ANSWER) -> None:
    """A minimal HTTP/1.1 keep-alive server: every POST answers a chat completion. It is kept
    cheap (one answer per model, encoded once) so that it never competes with the harness.

    With ``control`` (a pipe), it also keeps when the first request arrived and when the last
    answer left (``time.time()``), and the number of calls: ``"stats"`` sends them back,
    ``"reset"`` starts over."""
    answers: dict[bytes, bytes] = {}
    seen = {"first": 0.0, "last": 0.0, "calls": 0}

    def answer(model: bytes) -> bytes:
        if model not in answers:
            payload = json.dumps(
                {
                    "id": "bench",
                    "object": "chat.completion",
                    "model": model.decode(),
                    "system_fingerprint": "fp_bench",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 420, "completion_tokens": 120},
                }
            ).encode()
            answers[model] = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
            )
        return answers[model]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                if not seen["calls"]:
                    seen["first"] = time.time()
                start = body.find(b'"model":"') + 9
                model = body[start : body.find(b'"', start)] if start > 8 else b"bench"
                await asyncio.sleep(delay_s)
                writer.write(answer(model))
                await writer.drain()
                seen["last"] = time.time()
                seen["calls"] += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer_control() -> None:
        while True:
            message = control.recv()
            if message == "reset":
                seen.update(first=0.0, last=0.0, calls=0)
                control.send("ok")
            else:
                control.send((seen["first"], seen["last"], seen["calls"]))

    if control is not None:
        threading.Thread(target=answer_control, daemon=True).start()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(
    delay_s: float, *, track: bool = False, content: str = ANSWER
) -> tuple[Any, str, Any]:
    """The server in a new process: (process, base URL, control pipe or None). Every call is
    answered with ``content`` (default: a support-ops answer)."""
    receive, send = multiprocessing.Pipe(duplex=False)
    control, remote = multiprocessing.Pipe() if track else (None, None)
    process = multiprocessing.Process(
        target=serve, args=(send, delay_s, remote, content), daemon=True
    )
    process.start()
    port = receive.recv()
    return process, f"http://127.0.0.1:{port}/v1", control


def write_dataset(path: Path, cases: int) -> None:
    """``cases`` support-ops cases, each with a unique message (so each is its own call)."""
    data = json.loads(DATASET.read_text())
    base = data["cases"] if isinstance(data, dict) else data
    with path.open("w") as out:
        for index in range(cases):
            case = dict(base[index % len(base)])
            case["id"] = f"B-{index:06d}"
            case["userMessage"] = f"{case['userMessage']} (ticket {index})"
            out.write(json.dumps(case) + "\n")
