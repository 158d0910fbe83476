"""Shared kernel: settings, database and Redis set-up, errors, logging, paging, caching."""
