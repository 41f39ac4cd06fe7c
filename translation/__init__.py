"""Counsel Room: translation package."""
