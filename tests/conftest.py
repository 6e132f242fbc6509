"""Shared fixtures. Real services live in tests/fixtures/: a loopback OpenSSH sshd and a
PostgreSQL database created (and dropped) per test session."""
import os

# The person-key secret is a test value; production reads it from the variable the config names.
os.environ.setdefault("DEFLECT_PERSON_KEY", "test-person-key-secret")

pytest_plugins = ["tests.fixtures.sshd", "tests.fixtures.postgres"]
