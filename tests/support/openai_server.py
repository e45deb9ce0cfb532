"""A real, loopback-only, OpenAI-compatible HTTP server for tests.

Standard library only. It binds ``127.0.0.1`` on an ephemeral port, serves from a
daemon thread and shuts down cleanly, so tests can drive a real HTTP client (httpx)
against it without ever talking to an outside service.

Routes:

* ``POST /v1/chat/completions``: the reply is chosen by a *responder*
  (``Callable[[ChatCall], Reply]``).
* ``GET /v1/models``: OpenAI-style model list.
* anything else: 404 with an OpenAI-style JSON error.

Example::

    with OpenAITestServer(scripted(Completion("hi"), HttpError(429, retry_after="1"))) as srv:
        client = httpx.Client(base_url=srv.base_url)
        client.post("/chat/completions", json={"model": "m", "messages": []})
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeAlias, TypedDict
from urllib.parse import urlsplit

__all__ = [
    "ChatCall",
    "Completion",
    "Drop",
    "HttpError",
    "Malformed",
    "OpenAITestServer",
    "RecordedRequest",
    "Reply",
    "Responder",
    "completions",
    "scripted",
]

_LOOPBACK = "127.0.0.1"
_MAX_BODY_BYTES = 16 * 1024 * 1024


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Completion:
    """200 with a standard ``chat.completion`` object.

    ``model`` overrides the model echoed back (default: the requested one), which lets
    tests simulate alias resolution (asked ``gpt-4o``, served ``gpt-4o-2024-08-06``).
    """

    content: str
    model: str | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 20
    system_fingerprint: str | None = None
    delay_s: float = 0.0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class HttpError:
    """``status`` with body ``{"error": {"message", "type", "code"}}``.

    ``error_type`` / ``code`` default to values derived from ``status``; ``retry_after``
    adds a ``Retry-After`` header verbatim.
    """

    status: int
    message: str = "error"
    retry_after: str | None = None
    delay_s: float = 0.0
    error_type: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Malformed:
    """``status`` with exactly ``body`` as the payload (Content-Type: application/json)."""

    body: bytes = b"{not json"
    status: int = 200
    delay_s: float = 0.0


@dataclass(frozen=True)
class Drop:
    """Read the request fully, then close the connection without any response."""

    delay_s: float = 0.0


Reply: TypeAlias = Completion | HttpError | Malformed | Drop


@dataclass(frozen=True)
class ChatCall:
    """One ``POST /v1/chat/completions`` handed to the responder."""

    index: int
    """0-based count of chat calls dispatched to the responder before this one."""
    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    headers: dict[str, str]
    """Request headers, names lowercased."""

    @property
    def last_content(self) -> str:
        """Text content of the last message ('' if none or not a plain string)."""
        if not self.messages:
            return ""
        content = self.messages[-1].get("content")
        return content if isinstance(content, str) else ""


Responder: TypeAlias = Callable[[ChatCall], Reply]


class RecordedRequest(TypedDict):
    """One request as received by the server."""

    method: str
    path: str
    target: str
    """The request-target as sent: the path, or a whole URL when sent to it as a proxy."""
    headers: dict[str, str]
    body: Any
    """Parsed JSON body, or None when empty / not JSON (see ``raw_body``)."""
    raw_body: bytes


def scripted(*replies: Reply, default: Reply | None = None) -> Responder:
    """Replies in order of ``ChatCall.index``; afterwards ``default``, else a 500."""
    script = tuple(replies)

    def responder(call: ChatCall) -> Reply:
        if call.index < len(script):
            return script[call.index]
        if default is not None:
            return default
        return HttpError(
            500,
            f"scripted responder exhausted: call #{call.index} but only {len(script)} replies",
            error_type="server_error",
        )

    return responder


def completions(content_for: Callable[[ChatCall], str]) -> Responder:
    """Always a successful ``Completion`` whose content is computed from the call."""

    def responder(call: ChatCall) -> Reply:
        return Completion(content_for(call))

    return responder


def _always_ok(call: ChatCall) -> Reply:
    return Completion("ok")


# --------------------------------------------------------------------------- internals


_DEFAULT_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def _error_body(status: int, message: str, error_type: str | None, code: str | None) -> bytes:
    if error_type is None:
        error_type = _DEFAULT_ERROR_TYPES.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
    payload = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return json.dumps(payload).encode()


class _BadRequest(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: OpenAITestServer) -> None:
        self.owner = owner
        super().__init__((_LOOPBACK, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a possibly slow DNS lookup.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print to stderr; keep unexpected (non-socket) failures for inspection.
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):
            self.owner._record_error(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OpenAITestServer/1.0"
    sys_version = ""
    timeout = 60.0  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers/body are separate writes: avoid ~40ms stalls

    server: _Server

    # -- lifecycle ----------------------------------------------------------------------

    def setup(self) -> None:
        self.server.owner._register_connection(self.request)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._unregister_connection(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- dispatch -----------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        headers = dict(self._header_items())
        try:
            raw = self._read_body(headers)
        except _BadRequest as exc:
            self.close_connection = True
            self._send_error(400, str(exc))
            return

        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        # As a proxy is sent requests for whole URLs ("absolute-form"), it answers them too.
        path = urlsplit(self.path).path if "://" in self.path else self.path.split("?", 1)[0]

        if not owner._admit(
            RecordedRequest(
                method=self.command,
                path=path,
                target=self.path,
                headers=headers,
                body=body,
                raw_body=raw,
            )
        ):
            self._send_error(
                503,
                f"OpenAITestServer request cap reached (max_requests={owner.max_requests})",
            )
            return

        if owner.api_key is not None and headers.get("authorization") != (
            f"Bearer {owner.api_key}"
        ):
            self._send_error(
                401,
                "Incorrect API key provided.",
                error_type="invalid_request_error",
                code="invalid_api_key",
            )
            return

        if path == "/v1/chat/completions" and self.command == "POST":
            self._chat(body, headers)
        elif path == "/v1/models" and self.command == "GET":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "test"}
                for m in owner.listed_models()
            ]
            self._send_json(200, json.dumps({"object": "list", "data": data}).encode())
        else:
            self._send_error(404, f"Unknown route: {self.command} {path}")

    def _chat(self, body: Any, headers: dict[str, str]) -> None:
        owner = self.server.owner
        if not isinstance(body, dict):
            self._send_error(400, "Request body must be a JSON object.")
            return
        model = body.get("model")
        if not isinstance(model, str) or not model:
            self._send_error(400, "you must provide a model parameter", code="missing_model")
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self._send_error(400, "'messages' must be a list of objects.")
            return
        if body.get("stream") is True:
            self._send_error(400, "stream=true is not supported by OpenAITestServer.")
            return
        if owner.known_models is not None and model not in owner.known_models:
            self._send_error(404, f'model "{model}" not found, try pulling it first')
            return

        call = owner._new_call(model, messages, body, headers)
        try:
            reply = owner.responder(call)
        except Exception as exc:
            owner._record_error(exc)
            self._send_error(500, f"responder raised {type(exc).__name__}: {exc}")
            return

        if reply.delay_s > 0 and owner._closing.wait(reply.delay_s):
            self._drop()  # server is shutting down: don't keep the client waiting
            return

        if isinstance(reply, Completion):
            self._send_json(200, _completion_body(call, reply))
        elif isinstance(reply, HttpError):
            extra = {"Retry-After": reply.retry_after} if reply.retry_after is not None else {}
            self._send_error(reply.status, reply.message, reply.error_type, reply.code, extra)
        elif isinstance(reply, Malformed):
            self._send_json(reply.status, reply.body)
        elif isinstance(reply, Drop):
            self._drop()
        else:  # pragma: no cover - guards against a responder returning junk
            exc = TypeError(f"responder returned {reply!r}, not a Reply")
            owner._record_error(exc)
            self._send_error(500, str(exc))

    # -- I/O helpers --------------------------------------------------------------------

    def _header_items(self) -> list[tuple[str, str]]:
        merged: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return list(merged.items())

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length_text = headers.get("content-length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest(f"invalid Content-Length: {length_text!r}") from None
        if length < 0 or length > _MAX_BODY_BYTES:
            raise _BadRequest(f"unacceptable Content-Length: {length}")
        data = self.rfile.read(length)
        if len(data) != length:
            raise _BadRequest("request body shorter than Content-Length")
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("malformed chunk size") from None
            if size == 0:
                break
            total += size
            if total > _MAX_BODY_BYTES:
                raise _BadRequest("chunked body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # CRLF after chunk data
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _send_json(
        self, status: int, payload: bytes, extra_headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:  # client went away (e.g. it timed out); nothing to tell it
            self.close_connection = True

    def _send_error(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        code: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self._send_json(status, _error_body(status, message, error_type, code), extra_headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _completion_body(call: ChatCall, reply: Completion) -> bytes:
    payload = {
        "id": f"chatcmpl-test-{call.index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model if reply.model is not None else call.model,
        "system_fingerprint": reply.system_fingerprint,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }
    return json.dumps(payload).encode()


# --------------------------------------------------------------------------- server


class OpenAITestServer:
    """Loopback OpenAI-compatible server; use as a context manager (or start()/close()).

    * ``responder`` decides each chat completion reply (default: ``Completion("ok")``).
    * ``api_key``: when set, requests lacking ``Authorization: Bearer <key>`` get 401.
    * ``known_models``: when set, chat calls for other models get an Ollama-style 404
      (``model "x" not found, try pulling it first``) and ``/v1/models`` lists exactly
      these; when unset, ``/v1/models`` lists the models requested so far.
    * ``max_requests``: requests beyond this many (any route) get 503 and are not recorded.
    """

    def __init__(
        self,
        responder: Responder = _always_ok,
        *,
        api_key: str | None = None,
        known_models: set[str] | None = None,
        max_requests: int = 10_000,
    ) -> None:
        self.responder = responder
        self.api_key = api_key
        self.known_models = frozenset(known_models) if known_models is not None else None
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._calls: list[ChatCall] = []
        self._errors: list[BaseException] = []
        self._request_count = 0
        self._connection_count = 0
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> OpenAITestServer:
        if self._httpd is not None:
            raise RuntimeError("OpenAITestServer already started")
        if self._closing.is_set():
            raise RuntimeError("OpenAITestServer cannot be restarted")
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"OpenAITestServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut open connections, join threads (bounded by ``timeout``)."""
        httpd = self._httpd
        if httpd is None or self._closing.is_set():
            self._closing.set()
            return
        self._closing.set()  # also wakes handlers sleeping on delay_s
        deadline = time.monotonic() + timeout
        httpd.shutdown()
        with self._lock:
            open_connections = list(self._connections.items())
        for conn, _ in open_connections:
            _shutdown_quietly(conn)
        for _, thread in open_connections:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public state -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("OpenAITestServer is not started")
        return self._httpd.server_port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``; pass as an OpenAI ``base_url``."""
        return f"http://{_LOOPBACK}:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the requests received (in arrival order, up to ``max_requests``)."""
        with self._lock:
            return list(self._requests)

    @property
    def calls(self) -> list[ChatCall]:
        """Snapshot of the chat calls handed to the responder (in ``index`` order)."""
        with self._lock:
            return sorted(self._calls, key=lambda c: c.index)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by the responder or the handler (socket errors excluded)."""
        with self._lock:
            return list(self._errors)

    @property
    def request_count(self) -> int:
        """All requests received, including those rejected by the ``max_requests`` cap."""
        with self._lock:
            return self._request_count

    @property
    def connection_count(self) -> int:
        """TCP connections accepted so far (1 for N keep-alive requests on one client)."""
        with self._lock:
            return self._connection_count

    def listed_models(self) -> list[str]:
        with self._lock:
            if self.known_models is not None:
                return sorted(self.known_models)
            return sorted({c.model for c in self._calls})

    # -- used by the handler ------------------------------------------------------------

    def _admit(self, request: RecordedRequest) -> bool:
        with self._lock:
            self._request_count += 1
            if self._request_count > self.max_requests:
                return False
            self._requests.append(request)
            return True

    def _new_call(
        self,
        model: str,
        messages: list[dict[str, Any]],
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> ChatCall:
        with self._lock:
            call = ChatCall(
                index=len(self._calls),
                model=model,
                messages=messages,
                body=body,
                headers=headers,
            )
            self._calls.append(call)
            return call

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _register_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connection_count += 1
            self._connections[conn] = threading.current_thread()
            closing = self._closing.is_set()
        if closing:
            _shutdown_quietly(conn)

    def _unregister_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)


def _shutdown_quietly(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
