"""Discussions: comments on a case for readers who revealed it, their edits, flags and moderation, and the
notifications that tell authors and editors what happened to their cases."""
