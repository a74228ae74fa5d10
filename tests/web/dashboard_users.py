"""The dashboard tests' users: one who may change tasks, one who may only look."""

WRITER = ("alice", "alice-password-123")
READER = ("rob", "rob-password-12345")
