"""Authentication: staff passwords and sessions, invite and room tokens, CSRF."""
