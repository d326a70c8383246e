"""Switchboard upstream emulator: fake OpenAI, Groq, Anthropic, Gemini and Bedrock servers speaking
each provider's native wire protocol, with a deterministic fake model and fault injection."""
from emulator.server import serve_in_thread

__all__ = ["serve_in_thread"]
