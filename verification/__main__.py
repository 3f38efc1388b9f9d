from verification.cli import entrypoint

entrypoint()
