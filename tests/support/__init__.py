"""Test helpers shared by the suites (no fakes of SDK clients: real clients, real HTTP)."""
