"""Synthetic TraCS and MEG/TF export drops with a ground-truth manifest (`deflect generate`)."""
from generator.config import GeneratorConfig
from generator.generate import GeneratorError, generate

__all__ = ["GeneratorConfig", "GeneratorError", "generate"]
