"""Progress messages: recipients, channels, templates, consent and the send ledger.

``notify`` serves: it imports ``core`` and the WeChat platform client and knows nothing of cases
or payments. The context that orchestrates an event decides what it means to whom and asks
``notify.publish`` from an outbox handler; ``notify`` decides how and whether it reaches the
person (consent, opt-out, quiet hours, fallback) and sends each message at most once per
channel.
"""
