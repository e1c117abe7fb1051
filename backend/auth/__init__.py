"""Authentication (users, passwords, JWTs) and authorization (private rooms, admin role)."""
