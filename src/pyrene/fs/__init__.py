"""The VFS and its mount types."""
