"""Domain services used by every front end (REST, CLI, LINE, console): they take a Session and the caller's
Scope, raise hub.services.errors, and never commit (hub.services.unit_of_work does)."""
