"""Site plumbing that every app uses and that knows no app: htmx responses, client addresses and
request budgets, the content version, slug checks and reading grades. Nothing here imports an app."""
