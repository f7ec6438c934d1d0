"""Cross-cutting pieces of the hub: settings, phone numbers, permissions, personal-data protection."""
