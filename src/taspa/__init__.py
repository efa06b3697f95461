"""Taspa: court hearing recording and custody under Kazakhstan's rules."""
