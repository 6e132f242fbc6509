"""TraCS incident export (tracs-incident-export.md): the source-specific parts of ingestion."""
from adapters.tracs.adapter import TracsAdapter

__all__ = ["TracsAdapter"]
