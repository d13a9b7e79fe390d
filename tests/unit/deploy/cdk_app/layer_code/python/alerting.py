"""Shared by the stream stack's functions through a Lambda layer."""

SUBJECT = "stream record failed"
