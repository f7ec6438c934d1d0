"""Domain services used by the API routes and the CLI; they take a Session and raise HubError."""
