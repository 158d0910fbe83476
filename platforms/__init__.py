"""Clients of the platforms the mini-program runs on, below every context.

A platform client speaks one platform's server API (today WeChat's mini-program API) and knows
no context: ``auth/`` logs people in and verifies faces with it, ``notify/`` will send subscribe
messages with it. It imports ``core/`` only (an import-linter contract keeps it so). Payment
channels are not platforms here: WeChat Pay is a provider of ``payments/``.
"""
