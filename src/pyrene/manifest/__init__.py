"""Manifests: the contract of what the sandbox grants."""
