"""Shared domain code of the deflection pipeline: vocabulary, person key, unit reference,
configuration, the `deflect` command and the in-process pipeline."""
