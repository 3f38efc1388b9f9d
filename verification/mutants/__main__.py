import sys

from verification.mutants.cli import entrypoint

sys.exit(entrypoint())
