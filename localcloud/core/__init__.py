"""Emulator core: HTTP server, signature check, errors, faults, state."""
