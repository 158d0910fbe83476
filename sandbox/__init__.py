"""Local stand-ins of the external platforms, as real HTTP peers.

The embedded profile mounts them in its own server and the tests start them in a separate
process, so the adapters that talk to WeChat, the identity-check provider and the company
registry are exercised over real sockets, with the same paths, fields, error codes and limits as
the platforms themselves (``../shared/PROTOCOLS.md``). Code that passes against these peers
should need no change to pass against the real ones; where a platform's behaviour is unconfirmed,
the module that imitates it says which choice it made.

Each peer keeps its state in process memory (one instance per peer; the embedded server runs a
single worker) and has a ``_control/`` API that plays the part of the phone or of the test: hand
out login codes, decide the outcome of a face verification, expire a token, read call counts.
"""
