"""The clinic staff workspace in Django admin. Every check that matters is made on the server, in the
views and actions, whatever the buttons show; the workflow rules live in staff/workflow.py and on the models."""

from staff.admin import articles, catalog, revisions

__all__ = ["articles", "catalog", "revisions"]
