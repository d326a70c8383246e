"""Switchboard upstream emulator: fake OpenAI, Groq, Azure OpenAI, Anthropic, Gemini, Vertex AI, Bedrock,
Cohere, AI21, Cerebras, SambaNova, Perplexity, Together, xAI and DeepInfra servers speaking each provider's
native wire protocol, with a deterministic fake model and fault injection."""
from emulator.server import serve_in_thread

__all__ = ["serve_in_thread"]
