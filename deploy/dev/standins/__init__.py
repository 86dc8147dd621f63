"""Faithful local stand-ins for third parties we cannot reach from dev and tests."""
