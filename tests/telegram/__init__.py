"""Tests of the telegram room."""
