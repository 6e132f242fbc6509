"""MEG / task force case activity export (meg-case-activity-export.md): source-specific parts."""
from adapters.meg_reports.adapter import MegAdapter

__all__ = ["MegAdapter"]
