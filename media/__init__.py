"""Counsel Room: media package."""
