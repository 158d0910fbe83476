"""Adapters of the identity ports: WeChat, the real-name check, the company registry."""
