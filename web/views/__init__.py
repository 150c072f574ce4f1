"""Thin views: read through selectors, write through services, show refusals as they are."""
