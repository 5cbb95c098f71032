"""Shared test support: real helpers (sshd, pm2, artifacts) that several test suites reuse."""
