"""Progress reports of model installation: the translation package's types, so one progress
bar serves speech and translation installs (media may import translation's types)."""

from translation.progress import InstallProgress, InstallStep, ProgressCallback, ignore_progress

__all__ = ["InstallProgress", "InstallStep", "ProgressCallback", "ignore_progress"]
