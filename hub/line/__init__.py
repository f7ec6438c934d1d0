"""The two LINE official accounts (enterprise/employee, police) over the hub's services: docs/line.md."""
