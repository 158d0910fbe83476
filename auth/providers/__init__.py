"""Adapters of the identity ports (the real-name check, the company registry).

The template every context that talks to the outside copies (README, "Architecture"):
``base.py`` holds the ports (``Protocol``), their value types and errors; one module per
provider (``sandbox.py``: the HTTP peers of ``sandbox/``); ``factory.py`` the registry by name
from which the composition root builds the provider a setting names. One contract suite per port
(``tests/contract/test_*_port.py``) runs against every provider the registry knows.
"""
