"""Tests from outside: the API as a stranger's tools see it (the OpenAPI document, Schemathesis
against a real server process, hostile inputs generated from the document)."""
