"""Subcommands of platform-verify, discovered by verification.cli."""
