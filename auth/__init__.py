"""Identities: WeChat login, real-name levels, tokens, companies, mandates, staff, permissions."""
