"""Tests of the reliability room."""
