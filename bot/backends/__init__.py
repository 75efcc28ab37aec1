"""Generators: llama.cpp in this process, an OpenAI-compatible server, and the model files they load."""
