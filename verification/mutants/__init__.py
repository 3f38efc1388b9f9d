"""Mutation testing of the suite: realistic misconfigurations applied to a copy, conformance run.

The catalog is data (catalog/<area>.yaml); edits.py applies one mutant's edits to a file's text,
runner.py runs the conformance suite on a copy per mutant and classifies the outcome.
"""
