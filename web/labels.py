"""Button texts for the workflow's steps (kept in :mod:`workflows.step_labels`, where the
refusals name the steps too)."""

from workflows.step_labels import STEP_LABELS as TRANSITION_LABELS

__all__ = ["TRANSITION_LABELS"]
