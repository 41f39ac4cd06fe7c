"""Counsel Room: rooms package."""
