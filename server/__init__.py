"""Counsel Room: server package."""
