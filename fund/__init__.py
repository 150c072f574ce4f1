"""Funds, their rules, ombud and organisations, beneficiaries, applications and need items."""
